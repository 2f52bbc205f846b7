package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself: simulated hosts reach each other through their switch and only
 * through it, a host can be cut off and plugged back in, each has its own name and
 * private directories, and closing leaves nothing behind (namespaces, processes, directories).
 * Needs no Stasis.
 */
@Timeout(120)
class SimulatedHostsIT {
    private static final Duration SHORT = Duration.ofSeconds(30);
    /** A TCP server: accepts one client, answers its line with "PEER <client address> <line>", then exits. */
    private static final String SERVER = """
            import socket, sys
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((sys.argv[1], int(sys.argv[2])))
            s.listen(1)
            print("listening", flush=True)
            c, peer = s.accept()
            line = c.makefile().readline().strip()
            c.sendall(("PEER %s %s\\n" % (peer[0], line)).encode())
            c.close()
            """;
    /** A TCP client: connects (3 s at most), sends a line, prints "LOCAL <its address>" and the answer. */
    private static final String CLIENT = """
            import socket, sys
            c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
            c.sendall(b"hello\\n")
            print("LOCAL", c.getsockname()[0])
            print(c.makefile().readline().strip())
            """;

    @TempDir
    Path temp;

    @BeforeAll
    static void needsNamespaces() {
        SimulatedHosts.assumeAvailable();
    }

    static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    private static Process server(Host host, Path output, int port) throws Exception {
        Process server = host.start(output, python(), "-c", SERVER, host.address(), String.valueOf(port));
        long deadline = System.nanoTime() + SHORT.toNanos();
        while (!(Files.exists(output) && Files.readString(output).contains("listening"))) {
            assertTrue(server.isAlive(), "the server did not start: " + Files.readString(output));
            assertTrue(System.nanoTime() < deadline, "the server did not listen in time");
            Thread.sleep(20);
        }
        return server;
    }

    /** @return whether {@code pid} is gone or a zombie (the machine's init reaps orphans a little later), within 10 s */
    private static boolean killed(long pid) throws Exception {
        Path stat = Path.of("/proc/" + pid + "/stat");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                String text = Files.readString(stat);
                if (text.substring(text.lastIndexOf(')') + 2).startsWith("Z")) {
                    return true;
                }
            } catch (IOException gone) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    void aClientOnOneHostReachesAServerOnAnotherThroughTheSwitchOnly() throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts("selftest", 2)) {
            Host one = hosts.host(1);
            Host two = hosts.host(2);
            Path serverOut = temp.resolve("server.txt");
            Process server = server(two, serverOut, 5000);

            // No host has a way out of the simulated network (no default route; the machine's own
            // namespace may well use 192.0.2.0/24 itself, and is never reached).
            for (Host host : hosts.hosts()) {
                Commands.Result routes = Commands.run(List.of("ip", "-n", host.namespace(), "route", "show"), SHORT);
                assertEquals(List.of("192.0.2.0/24 dev eth0 proto kernel scope link src " + host.address()),
                        routes.out().strip().lines().map(String::strip).toList(), routes.toString());
            }
            // The server listens in host 2 only: the root namespace has no such listener.
            assertThrows(IOException.class, () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", 5000), 1000);
                }
            }, "the server on host 2 listens in the root namespace");

            Commands.Result client = one.run(SHORT, python(), "-c", CLIENT, two.address(), "5000");
            assertEquals(0, client.status(), client.toString());
            assertEquals(List.of("LOCAL 192.0.2.1", "PEER 192.0.2.1 hello"), client.out().strip().lines().toList(),
                    client.toString());
            assertTrue(server.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, server.exitValue(), Files.readString(serverOut));

            // The bridge lives in the switch namespace, with one port per host.
            Commands.Result bridge = Commands.run(List.of("ip", "-n", hosts.switchNamespace(), "-o", "link", "show",
                    "master", "br0"), SHORT);
            assertEquals(2, bridge.out().strip().lines().count(), bridge.toString());
            Commands.Result rootLinks = Commands.run(List.of("ip", "-o", "link", "show"), SHORT);
            assertFalse(rootLinks.out().contains(hosts.switchNamespace()), rootLinks.toString());
        }
    }

    @Test
    void eachHostHasItsOwnNameAndDirectories() throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts("selftest", 2)) {
            for (Host host : hosts.hosts()) {
                Commands.Result env = host.run(SHORT, "sh", "-c",
                        "hostname; echo \"$XDG_RUNTIME_DIR\"; echo \"$HOME\"; echo \"${STASIS_RUNTIME_DIR-unset}\"");
                assertEquals(List.of(host.name(), host.runtime().toString(), host.home().toString(), "unset"),
                        env.out().strip().lines().toList(), env.toString());
                // Every host knows the others by name.
                Commands.Result names = host.run(SHORT, "getent", "hosts", "h1", "h2");
                assertEquals(List.of("192.0.2.1 h1", "192.0.2.2 h2"),
                        names.out().strip().lines().map(l -> l.replaceAll("\\s+", " ")).toList(), names.toString());
                assertTrue(Files.isDirectory(host.runtime()) && Files.isDirectory(host.home()));
            }
            assertNotEquals(hosts.host(1).runtime(), hosts.host(2).runtime());
            // A host's clocks may run ahead (monotonic and boot time; not the wall clock).
            hosts.host(2).clocksAhead(Duration.ofDays(1));
            double one = Double.parseDouble(hosts.host(1).run(SHORT, "cat", "/proc/uptime").out().split(" ")[0]);
            double two = Double.parseDouble(hosts.host(2).run(SHORT, "cat", "/proc/uptime").out().split(" ")[0]);
            assertTrue(two - one > 86_000 && two - one < 87_000, "uptimes " + one + " and " + two);
        }
    }

    @Test
    void aHostCutOffIsUnreachableUntilPluggedBackIn() throws Exception {
        try (SimulatedHosts hosts = new SimulatedHosts("selftest", 2)) {
            Host one = hosts.host(1);
            Host two = hosts.host(2);
            Path serverOut = temp.resolve("server.txt");
            server(two, serverOut, 5001);
            two.cutOff();
            Commands.Result cut = one.run(SHORT, python(), "-c", CLIENT, two.address(), "5001");
            assertNotEquals(0, cut.status(), "reached a host that was cut off: " + cut);
            two.reconnect();
            Commands.Result back = one.run(SHORT, python(), "-c", CLIENT, two.address(), "5001");
            assertEquals(0, back.status(), back.toString());
            assertTrue(back.out().contains("PEER 192.0.2.1 hello"), back.toString());
        }
    }

    @Test
    void closingKillsWhatRunsOnTheHostsAndRemovesTheirNamespacesAndDirectories() throws Exception {
        Process sleeper;
        List<String> namespaces;
        Path directory;
        Path pidFile = temp.resolve("daemon.pid");
        try (SimulatedHosts hosts = new SimulatedHosts("selftest", 2)) {
            namespaces = hosts.namespaces();
            directory = hosts.directory();
            sleeper = hosts.host(1).start(temp.resolve("sleep.txt"), "sleep", "1000");
            // A daemon the harness did not start directly (it left its parent): found by its namespace.
            Commands.Result started = hosts.host(2).run(SHORT, "sh", "-c",
                    "setsid sleep 1000 >/dev/null 2>&1 < /dev/null & echo $! > " + pidFile);
            assertEquals(0, started.status(), started.toString());
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            assertTrue(ProcessHandle.of(pid).isPresent(), "the daemon did not start");
            assertTrue(SimulatedHosts.pidsIn(hosts.host(2).namespace()).contains(pid));
        }
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        assertFalse(sleeper.isAlive(), "a process the harness started survived close");
        assertTrue(killed(pid), "a daemon survived close");
        Commands.Result list = Commands.run(List.of("ip", "netns", "list"), SHORT);
        for (String namespace : namespaces) {
            assertFalse(list.out().contains(namespace), namespace + " is left: " + list);
        }
        assertFalse(Files.exists(directory), directory + " is left");
    }
}
