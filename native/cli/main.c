/* stasis-client: the thin native client of a Stasis coordinator's control socket,
 * called by bin/stasis. See doc/control-protocol.md. */
#include <signal.h>
#include <string.h>

#include "commands.h"
#include "msg.h"
#include "opts.h"
#include "remote.h"

static const char HELP[] = "usage: stasis-client COMMAND [OPTIONS]\n"
                           "\n"
                           "  ping [--name N] [-q]                     is coordinator N running and ready?\n"
                           "  wait-ready [--name N] [--timeout S] [--pid PID]\n"
                           "                                           wait until coordinator N is ready\n"
                           "  wait-gone [--name N] [--timeout S]       wait until coordinator N has exited\n"
                           "  exec [--name N] 'COMMAND LINE'           run a Gogo command line\n"
                           "  exec [--name N] -f FILE|-                run a Gogo script\n"
                           "  call [--name N] COMMAND [ARGS...]        run stasis:COMMAND, ARGS verbatim\n"
                           "  shell [--name N]                         interactive Gogo shell\n"
                           "  coordinators                             the running coordinators' names\n"
                           "\n"
                           "N defaults to 'default'. 'stasis-client COMMAND --help' describes a command.\n"
                           "\n"
                           "--connect HOST:PORT [--token-file F], before COMMAND or among its options:\n"
                           "talk to a coordinator started with --listen HOST:PORT over TCP, presenting the\n"
                           "token in F (default: <runtime dir>/N.token; must be mode 0600).\n"
                           "Exit status: 0 ok, 1 failed, 2 usage error (exec/call: the command's status).\n";

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command COMMANDS[] = {
        {"ping", cmd_ping}, {"wait-ready", cmd_wait_ready}, {"wait-gone", cmd_wait_gone},       {"exec", cmd_exec},
        {"call", cmd_call}, {"shell", cmd_shell},           {"coordinators", cmd_coordinators},
};

int main(int argc, char **argv)
{
    /* A vanished coordinator or a closed stdout shows up as EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    int first = 1; /* global options before the command */
    while (first < argc) {
        int t = remote_take_option(NULL, argc, argv, &first);
        if (t == OPT_BAD) return EXIT_USAGE;
        if (t == OPT_NO) break;
        first++;
    }
    if (first >= argc) return msg_usage(NULL, "missing command");
    if (opt_is_help(argv[first]) || strcmp(argv[first], "help") == 0) return msg_help(HELP);
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++) {
        if (strcmp(argv[first], COMMANDS[i].name) == 0) return COMMANDS[i].run(argc - first, argv + first);
    }
    return msg_usage(NULL, "unknown command '%s'", argv[first]);
}
