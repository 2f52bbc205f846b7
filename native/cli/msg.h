/* One-line error messages on stderr, always prefixed "stasis: ". */
#ifndef STASIS_CLI_MSG_H
#define STASIS_CLI_MSG_H

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Print "stasis: <message>\n" as a single write; newlines in the message become spaces. */
void msg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "stasis: <cmd>: <message>; see: stasis <cmd> --help" and return EXIT_USAGE. */
int msg_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The standard "no coordinator 'N' is running; start one with: ..." line. */
void msg_no_coordinator(const char *name);

/* Print a help text on stdout and return EXIT_OK. */
int msg_help(const char *text);

#endif
