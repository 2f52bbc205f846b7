package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Hosts simulated on this machine for tests of computations that span hosts (issue #16):
 * one network namespace per host, each joined by a veth pair to a bridge that lives in
 * a "switch" namespace of its own (a bridge in the root namespace does not forward
 * here). Host {@code n} has the address {@code 192.0.2.n/24} on its {@code eth0}, its
 * loopback up, its own host name ({@code h<n>}, in a UTS namespace of each command), and
 * its own private {@code XDG_RUNTIME_DIR} and {@code HOME} (the filesystem is shared,
 * so each host's coordinators need their own sockets, tokens and checkpoints).
 *
 * <p>Names are unique per instance (prefix, this JVM's pid, a counter). Closing kills
 * every process in these namespaces by pid (every one of them was started through this
 * harness) and what it started itself, then deletes these namespaces and directories,
 * and only those. Needs root and {@code ip netns} (iproute2): {@link #assumeAvailable()}
 * skips a test cleanly otherwise.
 */
public final class SimulatedHosts implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The simulated hosts' network: a documentation range, never routed anywhere. */
    public static final String SUBNET = "192.0.2.";
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration IP_LIMIT = Duration.ofSeconds(30);

    /** Where {@code ip netns exec} finds files to mount over /etc for a namespace. */
    private static final Path NETNS_ETC = Path.of("/etc/netns");

    private final String prefix;
    private final int count;
    private final String switchNamespace;
    private final Path directory;
    private final List<Host> hosts = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();
    final List<Process> started = new ArrayList<>();

    /**
     * Creates {@code count} hosts joined by one switch.
     *
     * @param label a short word naming the test (letters and digits are kept)
     */
    public SimulatedHosts(String label, int count) throws IOException {
        if (count < 1 || count > 250) {
            throw new IllegalArgumentException("between 1 and 250 hosts, not " + count);
        }
        this.count = count;
        String word = label.replaceAll("[^A-Za-z0-9]", "").toLowerCase();
        this.prefix = "st" + word.substring(0, Math.min(word.length(), 12)) + "-" + ProcessHandle.current().pid()
                + "-" + COUNTER.incrementAndGet();
        this.switchNamespace = prefix + "-sw";
        this.directory = Files.createTempDirectory("stasis-hosts-" + prefix + "-");
        try {
            createSwitch();
            for (int n = 1; n <= count; n++) {
                hosts.add(createHost(n));
            }
        } catch (IOException | RuntimeException e) {
            try {
                close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Skips the calling test (a JUnit assumption that names the reason) where hosts
     * cannot be simulated: not root, or no {@code ip netns}. CI runs as root with
     * iproute2, so there these tests run.
     */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(isRoot(), "simulated hosts need root (network namespaces); skipped as uid "
                + uid());
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))
                || Files.isExecutable(Path.of("/usr/bin/ip")) || Files.isExecutable(Path.of("/bin/ip")),
                "simulated hosts need the ip command (Debian package iproute2)");
        Assumptions.assumeTrue(Commands.run(List.of("ip", "netns", "list"), IP_LIMIT).status() == 0,
                "simulated hosts need `ip netns` (Debian package iproute2)");
    }

    private static boolean isRoot() {
        return "0".equals(uid());
    }

    private static String uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .map(l -> l.split("\\s+")[1]).findFirst().orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    /**
     * Kills every computation of every coordinator on every host with {@code stasis kill}, and
     * waits until none of their processes is left.
     *
     * @param mayHaveEnded a computation may end on its own before its kill (its peer on another
     *        host was killed first): its kill's "no computation" is then fine
     * @throws Exception if a kill fails or processes survive 30 s
     */
    public void killEveryComputation(boolean mayHaveEnded) throws Exception {
        for (Host host : hosts) {
            for (String name : host.coordinators()) {
                JsonNode status = JSON.readTree(host.stasis("status", "--name", name, "--json").out());
                for (JsonNode computation : status.path("computations")) {
                    Commands.Result kill = host.stasis("kill", "--name", name, "--computation",
                            computation.path("id").asText());
                    assertTrue(kill.status() == 0 || mayHaveEnded && kill.toString().contains("no computation"),
                            kill.toString());
                }
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (Host host : hosts) {
            for (String name : host.coordinators()) {
                while (host.stasis("status", "--name", name, "--json").out().contains("\"hostPid\"")) {
                    assertTrue(System.nanoTime() < deadline, "processes of " + name + " on " + host + " survived");
                    Thread.sleep(100);
                }
            }
        }
    }

    /** @return host {@code n}, counted from 1 (its address is {@code 192.0.2.n}) */
    public Host host(int n) {
        return hosts.get(n - 1);
    }

    /** @return every host, host 1 first */
    public List<Host> hosts() {
        return List.copyOf(hosts);
    }

    /**
     * What helps to understand a failure: each of {@code outputs}, then every host's
     * coordinator logs.
     *
     * @param outputs the programs' output files
     * @return the text, starting with a newline
     */
    public String diagnostics(List<Path> outputs) {
        StringBuilder text = new StringBuilder("\n");
        try {
            for (Path output : outputs) {
                text.append(Lines.show(output));
            }
            for (Host host : hosts) {
                if (Files.isDirectory(host.stasisRuntime())) {
                    try (Stream<Path> logs = Files.list(host.stasisRuntime())) {
                        for (Path log : logs.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                            text.append(host.name()).append(' ').append(Lines.show(log));
                        }
                    }
                }
            }
        } catch (IOException e) {
            text.append("(diagnostics incomplete: ").append(e).append(")\n");
        }
        return text.toString();
    }

    /** @return the namespace that holds the bridge */
    public String switchNamespace() {
        return switchNamespace;
    }

    /** @return every namespace this instance created, the switch first */
    public List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    /** @return the directory that holds every host's private directories */
    public Path directory() {
        return directory;
    }

    private void createSwitch() {
        ip("netns", "add", switchNamespace);
        namespaces.add(switchNamespace);
        ip("-n", switchNamespace, "link", "set", "lo", "up");
        ip("-n", switchNamespace, "link", "add", "br0", "type", "bridge");
        ip("-n", switchNamespace, "link", "set", "br0", "up");
    }

    private Host createHost(int n) throws IOException {
        String namespace = prefix + "-h" + n;
        ip("netns", "add", namespace);
        namespaces.add(namespace);
        // Both ends are created in their namespaces at once: nothing appears in the root namespace.
        String port = "p" + n;
        ip("-n", switchNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace);
        ip("-n", switchNamespace, "link", "set", port, "master", "br0");
        ip("-n", switchNamespace, "link", "set", port, "up");
        ip("-n", namespace, "link", "set", "lo", "up");
        ip("-n", namespace, "addr", "add", SUBNET + n + "/24", "dev", "eth0");
        ip("-n", namespace, "link", "set", "eth0", "up");
        writeHostsFile(namespace, n);
        Path home = Files.createDirectories(directory.resolve("h" + n).resolve("home"));
        Path runtime = Files.createDirectories(directory.resolve("h" + n).resolve("run"));
        Files.setPosixFilePermissions(runtime, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        return new Host(this, n, namespace, port, home, runtime);
    }

    /**
     * The host's /etc/hosts ({@code ip netns exec} mounts /etc/netns/NAMESPACE/hosts over
     * it): its own name first, then every other host of this switch.
     */
    private void writeHostsFile(String namespace, int n) throws IOException {
        Path etc = Files.createDirectories(NETNS_ETC.resolve(namespace));
        StringBuilder text = new StringBuilder("127.0.0.1 localhost\n::1 localhost\n");
        text.append(SUBNET).append(n).append(" h").append(n).append('\n');
        for (int other = 1; other <= count; other++) {
            if (other != n) {
                text.append(SUBNET).append(other).append(" h").append(other).append('\n');
            }
        }
        Files.writeString(etc.resolve("hosts"), text);
    }

    void ip(String... args) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Commands.Result result = Commands.run(command, IP_LIMIT);
        if (result.status() != 0) {
            throw new IllegalStateException("simulated hosts: `" + String.join(" ", command) + "` failed (exit "
                    + result.status() + "): " + result.output().strip());
        }
    }

    /**
     * Kills what this harness started and every process left in its namespaces (by pid),
     * deletes its namespaces and its directories. Safe to call after a failure and twice.
     */
    @Override
    public void close() throws Exception {
        synchronized (started) {
            for (Process process : started) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
        List<String> failures = new ArrayList<>();
        List<String> reversed = new ArrayList<>(namespaces);
        java.util.Collections.reverse(reversed);
        for (String namespace : reversed) {
            killEverythingIn(namespace, failures);
        }
        synchronized (started) {
            for (Process process : started) {
                process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            started.clear();
        }
        for (String namespace : reversed) {
            Commands.Result deleted = Commands.run(List.of("ip", "netns", "del", namespace), IP_LIMIT);
            if (deleted.status() != 0) {
                failures.add("ip netns del " + namespace + ": " + deleted.output().strip());
            }
        }
        for (String namespace : reversed) {
            deleteTree(NETNS_ETC.resolve(namespace));
        }
        namespaces.clear();
        deleteTree(directory);
        if (!failures.isEmpty()) {
            throw new IllegalStateException("simulated hosts: cleanup incomplete: " + String.join("; ", failures));
        }
    }

    private static void killEverythingIn(String namespace, List<String> failures) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            List<Long> pids = pidsIn(namespace);
            if (pids.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                failures.add("processes " + pids + " in " + namespace + " did not die");
                return;
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            Thread.sleep(50);
        }
    }

    /** @return the pids (in this machine's pid namespace) of the live processes in {@code namespace} */
    static List<Long> pidsIn(String namespace) {
        Commands.Result result = Commands.run(List.of("ip", "netns", "pids", namespace), IP_LIMIT);
        if (result.status() != 0) {
            return List.of();
        }
        return result.output().lines().map(String::strip).filter(l -> l.matches("\\d+")).map(Long::valueOf)
                .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).toList();
    }

    private static void deleteTree(Path top) throws IOException {
        if (!Files.exists(top)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(top)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException("simulated hosts: cannot delete " + path, e);
                }
            }
        }
    }
}
