package org.stasis.scenarios.hosts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One simulated host of {@link SimulatedHosts}: a network namespace with the address
 * {@code 192.0.2.n}, the host name {@code h<n>}, and private {@code XDG_RUNTIME_DIR}
 * and {@code HOME} directories. Commands run there through {@code ip netns exec} with
 * that environment (and without {@code STASIS_RUNTIME_DIR}, so {@code stasis} uses the
 * host's own runtime directory, {@code $XDG_RUNTIME_DIR/stasis}).
 */
public final class Host {
    /** The command line of the assembled distribution. */
    public static final Path STASIS = Path.of(System.getProperty("stasis.dist", "../dist"), "bin", "stasis")
            .toAbsolutePath().normalize();
    private static final Duration RUN_LIMIT = Duration.ofSeconds(120);

    private final SimulatedHosts hosts;
    private final int number;
    private final String namespace;
    private final String switchPort;
    private final Path home;
    private final Path runtime;
    private volatile Duration clockOffset = Duration.ZERO;

    Host(SimulatedHosts hosts, int number, String namespace, String switchPort, Path home, Path runtime) {
        this.hosts = hosts;
        this.number = number;
        this.namespace = namespace;
        this.switchPort = switchPort;
        this.home = home;
        this.runtime = runtime;
    }

    /** @return the host's name, {@code h<n>} (also its host name, as {@code hostname} prints it there) */
    public String name() {
        return "h" + number;
    }

    /** @return the host's address, {@code 192.0.2.n} */
    public String address() {
        return SimulatedHosts.SUBNET + number;
    }

    /** @return {@code address:port} */
    public String address(int port) {
        return address() + ":" + port;
    }

    /** @return the network namespace that is this host */
    public String namespace() {
        return namespace;
    }

    /** @return the host's {@code HOME} */
    public Path home() {
        return home;
    }

    /** @return the host's {@code XDG_RUNTIME_DIR} */
    public Path runtime() {
        return runtime;
    }

    /** @return where the host's coordinators keep their sockets, logs and tokens */
    public Path stasisRuntime() {
        return runtime.resolve("stasis");
    }

    /** @return the token file of the host's coordinator {@code name} (with {@code --listen}) */
    public Path token(String name) {
        return stasisRuntime().resolve(name + ".token");
    }

    /** @return the log of the host's coordinator {@code name} */
    public Path log(String name) {
        return stasisRuntime().resolve(name + ".log");
    }

    /**
     * @return where the host's coordinators should put checkpoints: pass it as
     *         {@code --ckpt-dir} (a coordinator's default comes from Java's
     *         {@code user.home}, the account's home from the password database, not
     *         {@code $HOME}: the same directory on every simulated host)
     */
    public Path checkpoints() {
        return home.resolve(".local/share/stasis/checkpoints");
    }

    /**
     * Starts a command on this host without waiting, its stdout and stderr appended to
     * {@code output}, its stdin /dev/null. The harness kills it (by pid) on close.
     */
    public Process start(Path output, String... command) throws IOException {
        ProcessBuilder builder = builder(List.of(command)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        synchronized (hosts.started) {
            Process process = builder.start();
            hosts.started.add(process);
            return process;
        }
    }

    /** Runs a command on this host to its end (at most {@code limit}). */
    public Commands.Result run(Duration limit, String... command) {
        return Commands.run(builder(List.of(command)), limit);
    }

    /** Runs a command of the command line on this host to its end (at most 120 s). */
    public Commands.Result stasis(String... args) {
        return run(RUN_LIMIT, withStasis(args));
    }

    /** Starts a command of the command line on this host, its output appended to {@code output}. */
    public Process startStasis(Path output, String... args) throws IOException {
        return start(output, withStasis(args));
    }

    private static String[] withStasis(String... args) {
        List<String> command = new ArrayList<>(List.of(STASIS.toString()));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /**
     * Unplugs the host: its port on the switch goes down, so no packet goes in or out
     * (its {@code eth0} loses its carrier; addresses, routes and sockets stay, as with a
     * pulled cable). Its processes go on running.
     */
    public void cutOff() {
        hosts.ip("-n", hosts.switchNamespace(), "link", "set", switchPort, "down");
    }

    /** Plugs the host back in after {@link #cutOff()}. */
    public void reconnect() {
        hosts.ip("-n", hosts.switchNamespace(), "link", "set", switchPort, "up");
        // Addresses asked for while it was cut off are cached as unreachable for a while
        // (a connect then fails at once with "No route to host"): forget them everywhere.
        for (Host host : hosts.hosts()) {
            hosts.ip("-n", host.namespace(), "neigh", "flush", "all");
        }
    }

    /**
     * Sets this host's clocks ahead of the machine's: commands started from now on run in
     * a time namespace whose monotonic and boot-time clocks are {@code offset} ahead (the
     * wall clock cannot differ per namespace).
     */
    public void clocksAhead(Duration offset) {
        this.clockOffset = offset;
    }

    private ProcessBuilder builder(List<String> command) {
        // its own host name, in a UTS namespace of this command (and its own clocks, if set)
        List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "unshare", "--uts"));
        if (!clockOffset.isZero()) {
            String seconds = String.valueOf(clockOffset.toSeconds());
            all.addAll(List.of("--time", "--monotonic", seconds, "--boottime", seconds));
        }
        all.addAll(List.of("--", "sh", "-c", "hostname \"$0\" && exec \"$@\"", name()));
        all.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(all);
        Map<String, String> env = builder.environment();
        env.remove("STASIS_RUNTIME_DIR");
        env.put("XDG_RUNTIME_DIR", runtime.toString());
        env.put("HOME", home.toString());
        // its framework caches in its own home, as on a host of its own (named, as the JVM's
        // user.home is the password database's home, not $HOME)
        env.remove("STASIS_CACHE_DIR");
        env.put("XDG_CACHE_HOME", home.resolve(".cache").toString());
        return builder;
    }


    /**
     * @return the names of the coordinators running on this host: a control socket with its
     *         log beside it (a member's name has dots: span-192.0.2.1-4100; agents' sockets have no log)
     * @throws IOException if the runtime directory cannot be listed
     */
    public List<String> coordinators() throws IOException {
        if (!Files.isDirectory(stasisRuntime())) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(stasisRuntime())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sock"))
                    .map(n -> n.substring(0, n.length() - ".sock".length()))
                    .filter(n -> Files.exists(stasisRuntime().resolve(n + ".log"))).sorted().toList();
        }
    }

    @Override
    public String toString() {
        return name() + " (" + address() + ", namespace " + namespace + ")";
    }
}
