/* Building Gogo (Apache Felix Gogo runtime 1.1.x) command lines from argv. */
#ifndef STASIS_CLI_GOGO_H
#define STASIS_CLI_GOGO_H

/* 1 if s can be used as a command name after "scope:". */
int gogo_is_command_name(const char *s);

/* malloc'ed "SCOPE:CMD 'ARG1' 'ARG2' ...", every ARG quoted so that Gogo hands it
 * to the command verbatim as a String. NULL when out of memory. */
char *gogo_command_line(const char *scope, const char *cmd, char *const *args, int nargs);

#endif
