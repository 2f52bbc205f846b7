#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "msg.h"

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int token_read(const char *path, char *out, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        msg_err("cannot read the token file %s: %s; copy the coordinator's <runtime dir>/<name>.token "
                "and pass it with --token-file FILE",
                path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        msg_err("token file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        msg_err("refusing token file %s: others can read it (mode %03o); fix it with: chmod 600 %s", path,
                (unsigned)(st.st_mode & 0777), path);
        close(fd);
        return -1;
    }
    char buf[TOKEN_MAX_HEX + 4];
    size_t len = 0;
    for (;;) {
        ssize_t n = io_read(fd, buf + len, sizeof buf - len);
        if (n < 0) {
            msg_err("cannot read the token file %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0 || (len += (size_t)n) == sizeof buf) break;
    }
    close(fd);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
    int ok = len >= TOKEN_MIN_HEX && len <= TOKEN_MAX_HEX && len < size;
    for (size_t i = 0; ok && i < len; i++) ok = is_hex(buf[i]);
    if (!ok) {
        msg_err("token file %s does not hold a token (%d to %d hex digits)", path, TOKEN_MIN_HEX, TOKEN_MAX_HEX);
        return -1;
    }
    memcpy(out, buf, len);
    out[len] = '\0';
    return 0;
}
