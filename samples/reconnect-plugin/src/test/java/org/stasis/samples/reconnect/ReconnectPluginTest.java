package org.stasis.samples.reconnect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.FdSource;
import org.stasis.api.testkit.Descriptors;
import org.stasis.api.testkit.FakeComputation;

/**
 * The plugin's write and restart against the test kit's fake core, with real sockets:
 * the test JVM plays both the program (its connections) and the coordinator.
 */
class ReconnectPluginTest {
    private static final FdSource RESET = new FdSource.Inherited(-1);   // stands for the socket plugin's entry

    @TempDir
    Path temp;

    private final TcpSockets sockets = new TcpSockets();
    private FakeComputation core;
    private ServerSocket database;
    private ServerSocket other;

    @BeforeEach
    void servers() throws IOException {
        core = new FakeComputation(temp.resolve("plugins/reconnect"));
        database = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
        other = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
    }

    @AfterEach
    void close() throws IOException {
        core.close();
        database.close();
        other.close();
    }

    /** What the socket plugin, which runs first at restart, leaves at a descriptor. */
    private void resetBefore(int pid, int fd) {
        core.restart().plan().process(pid).installFd(fd, RESET);
    }

    private static int flags(int fd) throws IOException {
        return Integer.parseInt(Descriptors.fdInfoField(fd, "flags").orElseThrow(), 8);
    }

    private ReconnectPlugin plugin(ServerSocket... services) {
        String[] list = java.util.Arrays.stream(services).map(s -> "127.0.0.1:" + s.getLocalPort())
                .toArray(String[]::new);
        return new ReconnectPlugin(sockets, Settings.of(list, 2000));
    }

    private int program(ServerSocket server) throws IOException {
        return sockets.connect(new TcpConnection(LibC.AF_INET, endpoint(server), true, false), Duration.ofSeconds(2));
    }

    private static Endpoint endpoint(ServerSocket server) {
        return new Endpoint(server.getInetAddress(), server.getLocalPort());
    }

    @Test
    void connectionsToServicesComeBackConnected() throws Exception {
        int toDatabase = program(database);
        int toOther = program(other);
        int udp = RawFds.C.socket(LibC.AF_INET, 2, 0);
        int childCopy = core.descriptors().dup(toDatabase);   // a child's copy of the socket, close-on-exec
        core.process(1, toDatabase, toOther, udp).process(2, childCopy);
        database.accept().close();
        other.accept().close();
        int flags = flags(toDatabase);
        int childFlags = flags(childCopy);
        assertEquals(Descriptors.O_CLOEXEC, childFlags & Descriptors.O_CLOEXEC);

        ReconnectPlugin plugin = plugin(database);
        plugin.write(core.checkpoint());
        assertEquals(Set.of("fd.1." + toDatabase, "fd.2." + childCopy), core.records().keySet());
        RawFds.C.close(toDatabase);   // the program is gone
        RawFds.C.close(toOther);
        RawFds.C.close(udp);
        core.descriptors().close(childCopy);

        resetBefore(1, toDatabase);
        resetBefore(2, childCopy);
        plugin.restart(core.restart());

        FdSource.Passed first = assertInstanceOf(FdSource.Passed.class, core.installed(1).get(toDatabase));
        FdSource.Passed second = assertInstanceOf(FdSource.Passed.class, core.installed(2).get(childCopy));
        assertEquals(first.descriptor(), second.descriptor(), "one socket, shared as before");
        assertEquals(flags, first.flags());
        assertEquals(childFlags, second.flags(), "close-on-exec is the child's descriptor's own");
        try (Socket again = database.accept()) {
            assertEquals(endpoint(database), sockets.describe(first.descriptor()).orElseThrow().peer());
            byte[] query = "SELECT 1\n".getBytes(StandardCharsets.US_ASCII);
            RawFds.C.write(first.descriptor(), query, query.length);
            assertEquals("SELECT 1\n", new String(again.getInputStream().readNBytes(query.length),
                    StandardCharsets.US_ASCII));
        } finally {
            RawFds.C.close(first.descriptor());   // what the core does once the restart is over
        }
        assertTrue(core.log().stream().anyMatch(line -> line.startsWith("reconnected pid 1 fd " + toDatabase
                + ", pid 2 fd " + childCopy + " to 127.0.0.1:")), core.log().toString());
    }

    @Test
    void aServiceThatIsDownLeavesTheConnectionReset() throws Exception {
        int toDatabase = program(database);
        core.process(1, toDatabase);
        database.accept().close();
        ReconnectPlugin plugin = plugin(database);
        plugin.write(core.checkpoint());
        RawFds.C.close(toDatabase);
        database.close();

        resetBefore(1, toDatabase);
        long before = RawFds.openSockets();
        plugin.restart(core.restart());
        assertEquals(RESET, core.installed(1).get(toDatabase));
        assertEquals(before, RawFds.openSockets());
        assertTrue(core.log().stream().anyMatch(line -> line.startsWith("cannot reconnect pid 1 fd " + toDatabase)
                && line.contains("refused")), core.log().toString());
    }

    @Test
    void withoutServicesItDoesNothing() throws Exception {
        int toDatabase = program(database);
        try {
            core.process(1, toDatabase);
            plugin().write(core.checkpoint());
            assertEquals(List.of(), List.copyOf(core.records().keySet()));
            assertEquals(List.of(), core.log());
        } finally {
            RawFds.C.close(toDatabase);
        }
    }

    @Test
    void aMistypedServiceIsReportedAtEachCheckpoint() throws Exception {
        new ReconnectPlugin(sockets, Settings.of(new String[] { "db.local:5432" }, 2000)).write(core.checkpoint());
        assertEquals(1, core.log().size());
        assertTrue(core.log().get(0).contains("db.local:5432"), core.log().toString());
    }
}
