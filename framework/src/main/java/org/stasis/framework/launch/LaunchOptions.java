package org.stasis.framework.launch;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.stasis.framework.control.ListenAddress;

/**
 * What {@code stasis coordinator} was asked to do.
 *
 * @param home the distribution directory (bundles/, plugins/, bin/)
 * @param name the coordinator's name
 * @param checkpointDirectory where checkpoints go
 * @param pluginsDirectory the folder watched for plugin bundles
 * @param console whether to run the interactive console on this terminal
 * @param help whether only the help text was asked for
 * @param interval seconds between interval checkpoints, 0 for none
 * @param keep how many checkpoints to keep, 0 for all
 * @param listen {@code HOST:PORT} to also accept control connections on over TCP, or null
 * @param exitWhenIdle whether the coordinator exits once its last computation has ended (one that
 *        {@code stasis launch} or {@code restart} started for itself)
 * @param explicit the settings the command line gave ({@code ckpt.dir}, {@code interval}, {@code keep}):
 *        they win over org.stasis.coordinator.cfg at start
 * @param join the main coordinator's {@code HOST:PORT} to join as a member (doc/several-hosts.md), or null
 * @param tokenFile the file with the main's token for {@code join}, or null for the default
 * @param hostName this host's name in computations that span hosts, or null for the machine's hostname
 */
record LaunchOptions(Path home, String name, Path checkpointDirectory, Path pluginsDirectory, boolean console,
        boolean help, long interval, int keep, String listen, boolean exitWhenIdle, Set<String> explicit,
        String join, Path tokenFile, String hostName) {

    static final String USAGE = """
            Usage: stasis coordinator [--name N] [--ckpt-dir D] [--plugins DIR] [--interval S] [--keep K]
                                      [--listen HOST:PORT] [--host-name N]
                                      [--join HOST:PORT [--token-file F]] [--daemon]

            Runs a Stasis coordinator: the OSGi runtime that checkpoints and restarts the
            programs launched under it. In the foreground it opens an interactive Gogo
            console (type 'help'; 'exit' or Ctrl-D stops the coordinator).

              --name N        the coordinator's name (default: default); several can run at once
              --ckpt-dir D    where checkpoints are written (default: ~/.local/share/stasis/checkpoints)
              --plugins DIR   folder watched for plugin bundles (default: <stasis home>/plugins);
                              a jar copied there joins within seconds, removing it removes the plugin
              --interval S    checkpoint every S seconds while there are processes (default: 0, off)
              --keep K        keep the newest K checkpoints, delete older ones after a newer one is
                              published (default: 0, keep all)
              --listen HOST:PORT
                              also accept control connections over TCP (port 0: any free port);
                              each must present the secret token kept in <runtime dir>/<name>.token
                              (stasis-client --connect HOST:PORT --token-file F)
              --host-name N   this host's name in computations that span hosts (default: hostname)
              --join HOST:PORT
                              be a member of the main coordinator listening there: every computation
                              launched here is a part of one of its computations (doc/several-hosts.md);
                              stasis launch --coordinator HOST:PORT starts such a coordinator
              --token-file F  the main's token for --join (default: <runtime dir>/default.token)
              --exit-when-idle
                              exit once the last computation has ended and nothing is pending
                              (after idle.exit.seconds of org.stasis.coordinator.cfg, default 5);
                              what 'stasis launch' and 'restart' use when they start one
              --daemon        run in the background; return once the coordinator is ready
              -h, --help      show this help
            """;

    /**
     * @param args the command-line arguments after the launcher's own {@code --home DIR}
     *        and {@code --console}
     * @return the options
     * @throws UsageException if the arguments are wrong
     */
    static LaunchOptions parse(List<String> args) throws UsageException {
        Path home = null;
        String name = "default";
        Path checkpoints = org.stasis.framework.util.DefaultCheckpoints.directory();
        Path plugins = null;
        boolean console = false;
        long interval = 0;
        int keep = 0;
        String listen = null;
        boolean exitWhenIdle = false;
        Set<String> explicit = new TreeSet<>();
        String join = null;
        Path tokenFile = null;
        String hostName = null;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            switch (arg) {
                case "-h", "--help" -> {
                    return new LaunchOptions(null, name, checkpoints, plugins, false, true, 0, 0, null, false,
                            Set.of(), null, null, null);
                }
                case "--home" -> home = Path.of(value(args, ++i, arg));
                case "--name" -> name = validName(value(args, ++i, arg));
                case "--ckpt-dir" -> {
                    checkpoints = Path.of(value(args, ++i, arg));
                    explicit.add("ckpt.dir");
                }
                case "--plugins" -> plugins = Path.of(value(args, ++i, arg));
                case "--console" -> console = true;
                case "--interval" -> {
                    interval = number(value(args, ++i, arg), arg);
                    explicit.add("interval");
                }
                case "--keep" -> {
                    keep = (int) number(value(args, ++i, arg), arg);
                    explicit.add("keep");
                }
                case "--exit-when-idle" -> exitWhenIdle = true;
                case "--listen" -> listen = listenAddress(value(args, ++i, arg));
                case "--join" -> join = listenAddress(value(args, ++i, arg));
                case "--token-file" -> tokenFile = Path.of(value(args, ++i, arg)).toAbsolutePath();
                case "--host-name" -> hostName = validName(value(args, ++i, arg));
                default -> throw new UsageException("unknown option '" + arg + "'; see: stasis coordinator --help");
            }
        }
        if (home == null) {
            throw new UsageException("--home is missing; run the coordinator through bin/stasis");
        }
        home = home.toAbsolutePath().normalize();
        if (plugins == null) {
            plugins = home.resolve("plugins");
        }
        return new LaunchOptions(home, name, checkpoints.toAbsolutePath().normalize(),
                plugins.toAbsolutePath().normalize(), console, false, interval, keep, listen, exitWhenIdle,
                Set.copyOf(explicit), join, tokenFile, hostName);
    }

    private static String value(List<String> args, int index, String option) throws UsageException {
        if (index >= args.size() || args.get(index).startsWith("--")) {
            throw new UsageException(option + " needs a value; see: stasis coordinator --help");
        }
        return args.get(index);
    }

    private static long number(String text, String option) throws UsageException {
        try {
            long value = Long.parseLong(text);
            if (value >= 0 && value <= Integer.MAX_VALUE) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + " takes a whole number of 0 or more, not '" + text + "'");
    }

    private static String listenAddress(String text) throws UsageException {
        try {
            ListenAddress.parse(text);
            return text;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static String validName(String name) throws UsageException {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new UsageException("bad coordinator name '" + name
                    + "'; use letters, digits, '.', '_' and '-' (at most 64)");
        }
        return name;
    }
}
