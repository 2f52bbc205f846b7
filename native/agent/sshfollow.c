/* Following ssh (doc/several-hosts.md, "Following ssh"). A program of the computation
 * that runs `ssh [OPTIONS] DEST COMMAND...` (mpirun starting orted, a launcher starting
 * engines, a user's script) gets COMMAND run on DEST as a part of the computation: the
 * exec wrappers (execwarn.c) hand ssh one remote command instead of COMMAND, which runs
 * `stasis launch --coordinator MAIN -- /bin/sh -c 'COMMAND'` when Stasis is installed at
 * the same path on DEST, and COMMAND itself (with a warning) when it is not. MAIN and the
 * token file come from <runtime dir>/<coordinator>.span, which a coordinator that
 * listens on TCP (or a member joined to one) writes: no file, nothing is followed.
 *
 * The ssh client itself stays in the computation, but its connection to DEST's sshd
 * cannot come back at a restart (sshd is not ours), while what it ran on DEST comes back
 * as a part. So a restarted followed ssh ends at once with status 0, as ssh ends when
 * its remote command ended well: its launcher reaps it; the remote program it started
 * runs on where the restart placed it. Nothing here allocates: a vfork child may run it. */
#include "agent.h"
#include "stasis/rawsys.h"
#include <string.h>

#define FOLLOW_MAX (16 * 1024) /* the longest remote command followed */

int g_followed_ssh; /* this process is an ssh whose remote command we followed */

/* ssh's options that take a value (OpenSSH 9): the value is the rest of the word or the next word */
static const char VALUED[] = "BbcDEeFIiJLlmOoPpQRSWw";
/* options after which there is no remote command to follow (subsystem, control, forwarding only, queries) */
static const char NOT_FOLLOWED[] = "sNOWGVQ";

/* remote commands that carry files over ssh's own stdio (scp's and rsync's servers, git's
 * transports): nothing to checkpoint there, and a part of the computation is no place for them */
static const char *const TRANSFERS[] = {
        "scp", "rsync", "sftp-server", "git-upload-pack", "git-receive-pack", "git-upload-archive", NULL};

static int is_transfer(const char *command)
{
    while (*command == ' ') command++;
    size_t n = 0;
    while (command[n] && command[n] != ' ') n++;
    const char *base = command;
    for (size_t i = 0; i < n; i++)
        if (command[i] == '/') base = command + i + 1;
    size_t len = (size_t)(command + n - base);
    for (const char *const *t = TRANSFERS; *t; t++)
        if (r_strlen(*t) == len && !strncmp(base, *t, len)) return 1;
    return 0;
}

static int is_ssh(const char *file)
{
    const char *slash = strrchr(file, '/');
    return r_streq(slash ? slash + 1 : file, "ssh");
}

/* index of the first word of the remote command in argv (after options and DEST), 0 if none,
 * if it transfers files,
 * or if an option says there is none; options may also follow DEST, as ssh takes them */
static int remote_command_at(char *const argv[])
{
    int dest = 0;
    for (int i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            if (dest) return is_transfer(a) ? 0 : i;
            dest = i;
            continue;
        }
        if (r_streq(a, "--")) {
            if (!dest && argv[i + 1]) dest = ++i;
            return dest && argv[i + 1] && !is_transfer(argv[i + 1]) ? i + 1 : 0;
        }
        for (const char *c = a + 1; *c; c++) {
            if (strchr(NOT_FOLLOWED, *c)) return 0;
            if (strchr(VALUED, *c)) {
                if (!c[1] && argv[i + 1]) i++;
                break;
            }
        }
    }
    return 0;
}

/* s as it reads inside single quotes for a POSIX shell (a quote closes, escapes and reopens) */
static char *escaped(char *d, const char *s)
{
    for (; *s; s++) {
        if (*s == '\'') d = r_stpcpy(d, "'\\''");
        else *d++ = *s;
    }
    return d;
}

/* s in single quotes for a POSIX shell */
static char *quoted(char *d, const char *s)
{
    *d++ = '\'';
    d = escaped(d, s);
    *d++ = '\'';
    return d;
}

/* the remote command words joined by spaces, as ssh joins them, single-quoted */
static char *quoted_words(char *d, char *const words[])
{
    *d++ = '\'';
    for (char *const *w = words; *w; w++) {
        if (w != words) *d++ = ' ';
        d = escaped(d, *w);
    }
    *d++ = '\'';
    return d;
}

/* MAIN and the token file from <runtime>/<coordinator>.span (next to the agent socket
 * <runtime>/<coordinator>.agent.sock), and whether this coordinator is a member (a third
 * line "member": its computation ids are not the main's); 0, or -1 if there is none */
static int read_span(char *text, size_t cap, char **main, char **token, int *member)
{
    static const char SOCK[] = ".agent.sock";
    char path[sizeof g_sock_path + 8];
    size_t n = r_strlen(g_sock_path), s = sizeof SOCK - 1;
    if (n <= s || !r_streq(g_sock_path + n - s, SOCK)) return -1;
    r_memcpy(path, g_sock_path, n - s);
    r_stpcpy(path + n - s, ".span");
    size_t len;
    if (r_read_file(path, text, cap - 1, &len) < 0 || !len) return -1;
    text[len] = 0;
    char *nl = strchr(text, '\n');
    if (!nl) return -1;
    *nl = 0;
    *main = text;
    *token = nl + 1;
    nl = strchr(*token, '\n');
    *member = nl && r_startswith(nl + 1, "member");
    if (nl) *nl = 0;
    return **main && **token == '/' ? 0 : -1;
}

/* STASIS_FOLLOW_SSH=0 in the environment ssh is given: the user asked for a plain ssh */
static int asked_plain(char *const envp[])
{
    for (char *const *e = envp; e && *e; e++)
        if (r_streq(*e, "STASIS_FOLLOW_SSH=0")) return 1;
    return 0;
}

size_t stasis_ssh_follow_size(const char *file, char *const argv[], char *const envp[])
{
    if (g_sock < 0 || !file || !argv || !argv[0] || !is_ssh(file) || asked_plain(envp)) return 0;
    int at = remote_command_at(argv);
    if (!at) return 0;
    size_t n = 0;
    for (int i = at; argv[i]; i++) n += r_strlen(argv[i]) + 1;
    if (n > FOLLOW_MAX) { /* its rewritten copy lives on this stack (a vfork child may be here) */
        static const char msg[] = "stasis: warning: the command ssh is given is too long to follow (over 16 KiB): "
                                  "it runs outside the computation\n";
        rsys3(SYS_write, 2, msg, sizeof msg - 1);
        return 0;
    }
    return 8 * n + 4 * (4096 + 1024 + sizeof g_computation) + 1024; /* 2 quoted copies, quoted paths */
}

/* The stasis command next to this agent: <dist>/lib/libstasis-agent.so -> <dist>/bin/stasis */
static int stasis_command(char *d, size_t cap)
{
    const char *self = stasis_agent_library();
    const char *slash = strrchr(self, '/');
    size_t n = slash ? (size_t)(slash - self) : 0;
    while (n && self[n - 1] == '/') n--;
    while (n && self[n - 1] != '/') n--; /* up from lib/ */
    if (!n || n + 16 > cap) return -1;
    r_memcpy(d, self, n);
    r_stpcpy(d + n, "bin/stasis");
    return 0;
}

int stasis_ssh_follow(char *const argv[], char **out, char *buf, size_t cap)
{
    int at = remote_command_at(argv);
    char span[1024], bin[4096], *main, *token;
    int member;
    if (!at || read_span(span, sizeof span, &main, &token, &member) < 0 || stasis_command(bin, sizeof bin) < 0)
        return 0;
    char *d = buf;
    d = r_stpcpy(d, "s=");
    d = quoted(d, bin);
    d = r_stpcpy(d, "; if [ -x \"$s\" ]; then exec \"$s\" launch --coordinator ");
    if (main[0] == ':') { /* the main listens on every address: the one this ssh came from */
        d = r_stpcpy(d, "\"${SSH_CONNECTION%% *}\"");
        d = quoted(d, main);
    } else {
        d = quoted(d, main);
    }
    d = r_stpcpy(d, " --token-file ");
    d = quoted(d, token);
    if (g_computation[0] && !member) {
        d = r_stpcpy(d, " --computation ");
        d = quoted(d, g_computation);
    }
    d = r_stpcpy(d, " -- /bin/sh -c ");
    d = quoted_words(d, argv + at);
    d = r_stpcpy(d, "; else echo \"stasis: warning: no $s on $(hostname): the command ssh runs there is outside "
                    "the computation and is not checkpointed\" >&2; exec /bin/sh -c ");
    d = quoted_words(d, argv + at);
    d = r_stpcpy(d, "; fi");
    if ((size_t)(d - buf) >= cap) return 0; /* cannot happen: sized by stasis_ssh_follow_size */
    int k = 0;
    for (; k < at; k++) out[k] = argv[k];
    out[k++] = buf;
    out[k] = NULL;
    return 1;
}

void stasis_ssh_restarted(void)
{
    if (g_followed_ssh) rsys1(SYS_exit_group, 0);
}
