#include "msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io.h"

#define MSG_MAX 2048

static void emit_line(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') buf[i] = ' ';
    }
    buf[len++] = '\n';
    (void)io_write_all(2, buf, len);
}

static size_t format_into(char *buf, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size, fmt, ap);
    if (n < 0) return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

void msg_err(const char *fmt, ...)
{
    char buf[MSG_MAX + 1];
    size_t len = (size_t)snprintf(buf, MSG_MAX, "stasis: ");
    va_list ap;
    va_start(ap, fmt);
    len += format_into(buf + len, MSG_MAX - len, fmt, ap);
    va_end(ap);
    emit_line(buf, len);
}

int msg_usage(const char *cmd, const char *fmt, ...)
{
    char what[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)format_into(what, sizeof what, fmt, ap);
    va_end(ap);
    if (cmd) msg_err("%s: %s; see: stasis %s --help", cmd, what, cmd);
    else msg_err("%s; see: stasis --help", what);
    return EXIT_USAGE;
}

void msg_no_coordinator(const char *name)
{
    if (strcmp(name, "default") == 0)
        msg_err("no coordinator 'default' is running; start one with: stasis coordinator --daemon");
    else msg_err("no coordinator '%s' is running; start one with: stasis coordinator --daemon --name %s", name, name);
}

int msg_help(const char *text)
{
    if (io_write_all(1, text, strlen(text)) < 0) return EXIT_FAIL;
    return EXIT_OK;
}
