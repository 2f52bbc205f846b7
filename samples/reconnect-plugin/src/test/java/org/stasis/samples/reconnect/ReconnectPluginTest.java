package org.stasis.samples.reconnect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.stasis.api.FdSource;

/**
 * The plugin's write and restart against a fake core, with real sockets: the test JVM
 * plays both the program (its connections) and the coordinator.
 */
class ReconnectPluginTest {
    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final FdSource RESET = new FdSource.Inherited(-1);   // stands for the socket plugin's entry

    private final TcpSockets sockets = new TcpSockets();
    private final FakeContexts core = new FakeContexts();
    private ServerSocket database;
    private ServerSocket other;

    @BeforeEach
    void servers() throws IOException {
        database = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
        other = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
    }

    @AfterEach
    void close() throws IOException {
        database.close();
        other.close();
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
        core.give(1, toDatabase, O_RDWR | O_NONBLOCK);
        core.give(1, toOther, O_RDWR);
        core.give(1, udp, O_RDWR);
        core.give(2, toDatabase, O_RDWR | O_CLOEXEC);   // a child forked after connecting shares the socket
        database.accept().close();
        other.accept().close();

        ReconnectPlugin plugin = plugin(database);
        plugin.write(core.checkpoint());
        assertEquals(Set.of("fd.1." + toDatabase, "fd.2." + toDatabase), core.records.keySet());
        RawFds.C.close(toDatabase);   // the program is gone
        RawFds.C.close(toOther);
        RawFds.C.close(udp);

        core.installedBefore(1, toDatabase, RESET);
        core.installedBefore(2, toDatabase, RESET);
        plugin.restart(core.restart());

        FdSource.Passed first = assertInstanceOf(FdSource.Passed.class, core.installed.get(1).get(toDatabase));
        FdSource.Passed second = assertInstanceOf(FdSource.Passed.class, core.installed.get(2).get(toDatabase));
        assertEquals(first.descriptor(), second.descriptor(), "one socket, shared as before");
        assertEquals(O_RDWR | O_NONBLOCK, first.flags());
        assertEquals(O_RDWR | O_CLOEXEC, second.flags());
        try (Socket again = database.accept()) {
            assertEquals(endpoint(database), sockets.describe(first.descriptor()).orElseThrow().peer());
            byte[] query = "SELECT 1\n".getBytes(StandardCharsets.US_ASCII);
            RawFds.C.write(first.descriptor(), query, query.length);
            assertEquals("SELECT 1\n", new String(again.getInputStream().readNBytes(query.length),
                    StandardCharsets.US_ASCII));
        } finally {
            RawFds.C.close(first.descriptor());   // what the core does once the restart is over
        }
        assertTrue(core.log.stream().anyMatch(line -> line.startsWith("reconnected pid 1 fd " + toDatabase
                + ", pid 2 fd " + toDatabase + " to 127.0.0.1:")), core.log.toString());
    }

    @Test
    void aServiceThatIsDownLeavesTheConnectionReset() throws Exception {
        int toDatabase = program(database);
        core.give(1, toDatabase, O_RDWR);
        database.accept().close();
        ReconnectPlugin plugin = plugin(database);
        plugin.write(core.checkpoint());
        RawFds.C.close(toDatabase);
        database.close();

        core.installedBefore(1, toDatabase, RESET);
        long before = RawFds.openDescriptors();
        plugin.restart(core.restart());
        assertEquals(RESET, core.installed.get(1).get(toDatabase));
        assertEquals(before, RawFds.openDescriptors());
        assertTrue(core.log.stream().anyMatch(line -> line.startsWith("cannot reconnect pid 1 fd " + toDatabase)
                && line.contains("refused")), core.log.toString());
    }

    @Test
    void withoutServicesItDoesNothing() throws Exception {
        int toDatabase = program(database);
        try {
            core.give(1, toDatabase, O_RDWR);
            plugin().write(core.checkpoint());
            assertEquals(List.of(), List.copyOf(core.records.keySet()));
            assertEquals(List.of(), core.log);
        } finally {
            RawFds.C.close(toDatabase);
        }
    }

    @Test
    void aMistypedServiceIsReportedAtEachCheckpoint() throws Exception {
        new ReconnectPlugin(sockets, Settings.of(new String[] { "db.local:5432" }, 2000)).write(core.checkpoint());
        assertEquals(1, core.log.size());
        assertTrue(core.log.get(0).contains("db.local:5432"), core.log.toString());
    }
}
