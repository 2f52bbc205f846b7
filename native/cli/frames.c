#include "frames.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "io.h"

#define HEADER_MAX 32
#define STATUS_MAX 15

void frames_init(frame_reader *r, int fd, frame_sink sink, void *sink_ctx)
{
    memset(r, 0, offsetof(frame_reader, buf));
    r->fd = fd;
    r->sink = sink;
    r->sink_ctx = sink_ctx;
}

/* Wait until fd is readable, calling the idle callback between polls. */
static int wait_readable(frame_reader *r)
{
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    for (;;) {
        int n = poll(&p, 1, r->idle_ms);
        if (n > 0) return 0;
        if (n < 0 && errno != EINTR) return FRAMES_LOST;
        if (n == 0 && r->idle(r->idle_ctx)) return FRAMES_ABORTED;
    }
}

/* Make buffered bytes available. Returns 0 or a FRAMES_* code (EOF -> LOST). */
static int fill(frame_reader *r)
{
    if (r->pos < r->len) return 0;
    if (r->idle) {
        int w = wait_readable(r);
        if (w) return w;
    }
    ssize_t n = io_read(r->fd, r->buf, sizeof r->buf);
    if (n <= 0) return FRAMES_LOST;
    r->pos = 0;
    r->len = (size_t)n;
    r->received += (size_t)n;
    return 0;
}

/* Parse "T <digits>" (without the newline). */
static int parse_header(const char *h, size_t n, char *type, uint64_t *size)
{
    if (n < 3 || !strchr("OEX", h[0]) || h[1] != ' ') return FRAMES_PROTOCOL;
    uint64_t v = 0;
    for (size_t i = 2; i < n; i++) {
        if (h[i] < '0' || h[i] > '9' || v > (UINT64_MAX - 9) / 10) return FRAMES_PROTOCOL;
        v = v * 10 + (uint64_t)(h[i] - '0');
    }
    *type = h[0];
    *size = v;
    return 0;
}

static int read_header(frame_reader *r, char *type, uint64_t *size)
{
    char h[HEADER_MAX];
    size_t n = 0;
    for (;;) {
        int f = fill(r);
        if (f) return f;
        char c = r->buf[r->pos++];
        if (c == '\n') return parse_header(h, n, type, size);
        if (n == sizeof h) return FRAMES_PROTOCOL;
        h[n++] = c;
    }
}

/* Hand an O/E payload to the sink chunk by chunk, as it arrives. */
static int relay_payload(frame_reader *r, char type, uint64_t size)
{
    while (size > 0) {
        int f = fill(r);
        if (f) return f;
        size_t avail = r->len - r->pos;
        size_t n = size < avail ? (size_t)size : avail;
        r->sink(r->sink_ctx, type, r->buf + r->pos, n);
        r->pos += n;
        size -= n;
    }
    return 0;
}

static int read_status(frame_reader *r, uint64_t size)
{
    if (size == 0 || size > STATUS_MAX) return FRAMES_PROTOCOL;
    int status = 0;
    for (uint64_t i = 0; i < size; i++) {
        int f = fill(r);
        if (f) return f;
        char c = r->buf[r->pos++];
        if (c < '0' || c > '9') return FRAMES_PROTOCOL;
        status = status * 10 + (c - '0');
        if (status > 255) return FRAMES_PROTOCOL;
    }
    return status;
}

int frames_run(frame_reader *r)
{
    for (;;) {
        char type;
        uint64_t size;
        int rc = read_header(r, &type, &size);
        if (rc) return rc;
        if (type == 'X') return read_status(r, size);
        rc = relay_payload(r, type, size);
        if (rc) return rc;
    }
}
