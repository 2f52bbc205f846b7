#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gogo.h"
#include "msg.h"
#include "opts.h"
#include "remote.h"

static const char HELP[] = "usage: stasis call [--name N] COMMAND [ARGS...] [-- ARGS...]\n"
                           "\n"
                           "Run the Gogo command stasis:COMMAND in coordinator N (default 'default') with\n"
                           "ARGS passed verbatim, each as one string. --name N (or --name=N) may appear\n"
                           "anywhere before a literal '--'; everything after '--' is passed as it is.\n"
                           "So may --connect HOST:PORT and --token-file F (TCP, see: stasis exec --help).\n";

typedef struct call_opts {
    const char *name;
    const char *command;
    char **args; /* arguments for the command, in order */
    int nargs;
} call_opts;

/* Before COMMAND only --name and --help are ours; after it, --name is still ours
 * (until "--") and everything else belongs to the command. */
static int parse(int argc, char **argv, call_opts *o)
{
    const char *cmd = argv[0];
    int after_dd = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!after_dd) {
            int t;
            if (strcmp(a, "--") == 0) {
                after_dd = 1;
                continue;
            }
            if ((t = opt_take(cmd, "--name", argc, argv, &i, &o->name)) == OPT_NO)
                t = remote_take_option(cmd, argc, argv, &i);
            if (t == OPT_BAD) return EXIT_USAGE;
            if (t == OPT_TAKEN) continue;
            if (!o->command && opt_is_help(a)) return msg_help(HELP) ? EXIT_FAIL : PARSE_HELP;
            if (!o->command && a[0] == '-' && a[1] != '\0') return opt_unexpected(cmd, a);
        }
        if (!o->command) o->command = a;
        else o->args[o->nargs++] = argv[i];
    }
    if (!o->command) return msg_usage(cmd, "missing COMMAND");
    if (!gogo_is_command_name(o->command))
        return msg_usage(cmd,
                         "'%s' is not a stasis command name (for other Gogo commands "
                         "use: stasis exec 'COMMAND LINE')",
                         o->command);
    return opt_check_name(cmd, o->name) ? EXIT_USAGE : 0;
}

int cmd_call(int argc, char **argv)
{
    call_opts o = {.name = "default"};
    o.args = calloc((size_t)argc, sizeof *o.args);
    if (!o.args) {
        msg_err("out of memory");
        return EXIT_FAIL;
    }
    int rc = parse(argc, argv, &o);
    if (rc == 0) {
        char *line = gogo_command_line("stasis", o.command, o.args, o.nargs);
        if (line) {
            rc = exec_text(o.name, line, strlen(line));
            free(line);
        } else {
            msg_err("out of memory");
            rc = EXIT_FAIL;
        }
    }
    free(o.args);
    return rc == PARSE_HELP ? EXIT_OK : rc;
}
