/* Reading the coordinator's reply frames: "<type> <n>\n" + n bytes; O, E, then X. */
#ifndef STASIS_CLI_FRAMES_H
#define STASIS_CLI_FRAMES_H

#include <stddef.h>

#define FRAMES_LOST     (-1) /* connection closed or reset before the X frame */
#define FRAMES_PROTOCOL (-2) /* malformed frame */
#define FRAMES_ABORTED  (-3) /* the idle callback asked to stop */

/* Receives O and E payload bytes, possibly in several chunks per frame. */
typedef void (*frame_sink)(void *ctx, char type, const char *data, size_t n);

typedef struct frame_reader {
    int fd;
    frame_sink sink;
    void *sink_ctx;
    /* Optional: called every idle_ms while no data arrives; nonzero aborts. */
    int (*idle)(void *ctx);
    void *idle_ctx;
    int idle_ms;
    size_t received; /* bytes read from fd so far */
    size_t pos, len;
    char buf[65536];
} frame_reader;

void frames_init(frame_reader *r, int fd, frame_sink sink, void *sink_ctx);

/* Read frames until X. Returns the X status (0..255) or a FRAMES_* code. */
int frames_run(frame_reader *r);

#endif
