/* The subcommands of stasis-client. Each gets argv[0] = its own name. */
#ifndef STASIS_CLI_COMMANDS_H
#define STASIS_CLI_COMMANDS_H

#include <stddef.h>

#include "frames.h"

int cmd_ping(int argc, char **argv);
int cmd_wait_ready(int argc, char **argv);
int cmd_wait_gone(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_shell(int argc, char **argv);
int cmd_coordinators(int argc, char **argv);

/* Send EXEC with text to coordinator `name`, relay O/E frames to stdout/stderr.
 * Returns the X status, or EXIT_FAIL after printing a one-line error. */
int exec_text(const char *name, const char *text, size_t len);

/* One line describing a failed frames_run() result (FRAMES_LOST/PROTOCOL). */
void report_reply_error(const char *name, int rc, const char *request);

#endif
