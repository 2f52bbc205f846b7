package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.FdSource;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;

/** Restarts of connections in their less common states. */
class RestartEdgesTest {
    @TempDir
    Path temp;

    /** Checkpoints what {@code context} holds, then closes the originals (the test's kit). */
    private FakeComputation checkpointAndKill(Kit kit, FakeComputation context) throws Exception {
        SocketPlugin plugin = new SocketPlugin(kit.s, Path.of("/proc"));
        plugin.drain(context.checkpoint(LifecycleEvent.DRAIN));
        plugin.write(context.checkpoint());
        plugin.resume(context.resume(ResumeContext.Outcome.RESUMED));
        context.endOperation();
        kit.close();
        return context;
    }

    private FakeComputation restart(Kit kit, FakeComputation checkpoint) throws Exception {
        FakeComputation restart = checkpoint.restarted();
        new SocketPlugin(kit.s, Path.of("/proc")).restart(restart.restart());
        restart.installed().values().forEach(fds -> fds.values().forEach(
                source -> kit.track(((FdSource.Passed) source).descriptor())));
        return restart;
    }

    @Test
    void aHalfClosedConnectionWithoutItsListenerComesBackHalfClosed() throws Exception {
        byte[] request = Kit.numbered("request", 1000);
        byte[] reply = Kit.numbered("reply", 10);
        Address clientAddress;
        Address serverAddress;
        FakeComputation checkpoint;
        int clientFd;
        int serverFd;
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET6);
            int[] c = kit.tcpConnect(listener, Net.AF_INET6);
            kit.close(listener); // the program closed its listener: a restart makes a temporary one
            clientFd = c[0];
            serverFd = c[1];
            clientAddress = kit.s.localAddress(c[0]);
            serverAddress = kit.s.localAddress(c[1]);
            kit.write(c[0], request);
            kit.s.shutdown(c[0], Net.SHUT_WR);
            kit.write(c[1], reply);
            Thread.sleep(50);
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, c[1]).process(2, c[0]));
        }
        try (Kit kit = new Kit()) {
            FakeComputation restart = restart(kit, checkpoint);
            int client = restart.passed(2, clientFd);
            int server = restart.passed(1, serverFd);

            assertEquals(clientAddress, kit.s.localAddress(client));
            assertEquals(serverAddress, kit.s.localAddress(server));
            assertEquals(serverAddress, kit.s.peerAddress(client));
            assertArrayEquals(request, kit.read(server, request.length));
            kit.s.poll(new int[] {server}, new int[] {Net.POLLIN}, 1000);
            assertEquals(0, kit.s.receive(server, new byte[8], 0, null, null), "end of stream after the request");
            assertArrayEquals(reply, kit.read(client, reply.length));
            kit.write(server, "still open this way".getBytes());
            assertArrayEquals("still open this way".getBytes(), kit.read(client, 19));
        }
    }

    @Test
    void aLargeBacklogOfAFastConnectionFitsIntoTheNewOne() throws Exception {
        FakeComputation checkpoint;
        int clientFd;
        int serverFd;
        byte[] backlog;
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = kit.tcpConnect(listener, Net.AF_INET);
            clientFd = c[0];
            serverFd = c[1];
            // Stream for a while so the kernel grows both buffers, then stop reading and fill them.
            Limits limits = Limits.read(Path.of("/proc/sys/net/core"));
            assumeTrue(limits.granted(SocketOption.RCVBUF) >= (8 << 20) && limits.granted(SocketOption.SNDBUF) >= (8 << 20),
                    "needs net.core.rmem_max and wmem_max of 4 MiB or more");
            byte[] chunk = Kit.random(1 << 20, 9);
            for (int i = 0; i < 40; i++) {
                kit.write(c[0], chunk);
                kit.read(c[1], chunk.length);
            }
            java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
            byte[] piece = Kit.random(65536, 10);
            long idleSince = System.nanoTime();
            // More than a new connection holds (about 4 MiB), less than enlarged buffers hold (2 x 8 MiB here).
            while (System.nanoTime() - idleSince < 300_000_000L && sent.size() < (10 << 20)) {
                int n = kit.s.send(c[0], piece, 0, piece.length, null);
                if (n > 0) {
                    sent.write(piece, 0, n);
                    idleSince = System.nanoTime();
                } else {
                    kit.s.poll(new int[] {c[0]}, new int[] {Net.POLLOUT}, 20);
                }
            }
            backlog = sent.toByteArray();
            assertTrue(backlog.length > (4 << 20), "only " + backlog.length + " bytes in flight");
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, c[1]).process(2, c[0]));
        }
        try (Kit kit = new Kit()) {
            FakeComputation restart = restart(kit, checkpoint);

            assertTrue(restart.log().isEmpty(), restart.log().toString());
            byte[] got = kit.read(restart.passed(1, serverFd), backlog.length);
            assertEquals(backlog.length, got.length);
            assertArrayEquals(backlog, got);
            assertTrue(kit.nothingWaiting(restart.passed(1, serverFd)));
            kit.write(restart.passed(2, clientFd), "next".getBytes());
            assertArrayEquals("next".getBytes(), kit.read(restart.passed(1, serverFd), 4));
        }
    }

    @Test
    void aUnixConnectionToAVanishedPeerKeepsItsDataThenEnds() throws Exception {
        FakeComputation checkpoint;
        int fd;
        try (Kit kit = new Kit()) {
            int[] pair = kit.unixPair(Net.SOCK_STREAM);
            kit.write(pair[1], "goodbye".getBytes());
            kit.close(pair[1]); // the peer exited after writing
            fd = pair[0];
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, pair[0]));
        }
        try (Kit kit = new Kit()) {
            FakeComputation restart = restart(kit, checkpoint);
            int socket = restart.passed(1, fd);

            assertArrayEquals("goodbye".getBytes(), kit.read(socket, 7));
            assertEquals(0, kit.s.receive(socket, new byte[8], 0, null, null));
            assertTrue(restart.log().stream().anyMatch(l -> l.contains("finds the connection closed")), restart.log().toString());
        }
    }

    @Test
    void aTcpClientNotYetAcceptedWaitsAgainAndNamedDatagramPeersKeepTheirNames() throws Exception {
        Path a = temp.resolve("a.sock");
        Path b = temp.resolve("b.sock");
        FakeComputation checkpoint;
        int listenerFd;
        int clientFd;
        int[] dgram = new int[2];
        Address clientAddress;
        try (Kit kit = new Kit()) {
            listenerFd = kit.tcpListener(Net.AF_INET6);
            clientFd = kit.socket(Net.AF_INET6, Net.SOCK_STREAM);
            kit.s.connect(clientFd, kit.s.localAddress(listenerFd));
            clientAddress = kit.s.localAddress(clientFd);
            dgram[0] = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            dgram[1] = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            kit.s.bind(dgram[0], Address.unixPath(a.toString()));
            kit.s.bind(dgram[1], Address.unixPath(b.toString()));
            kit.s.connect(dgram[0], Address.unixPath(b.toString()));
            kit.s.connect(dgram[1], Address.unixPath(a.toString()));
            kit.s.send(dgram[0], "to b".getBytes(), 0, 4, null);
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, listenerFd, dgram[0]).process(2, clientFd, dgram[1]));
        }
        try (Kit kit = new Kit()) {
            FakeComputation restart = restart(kit, checkpoint);

            int accepted = kit.track(kit.s.accept(restart.passed(1, listenerFd)));
            assertEquals(kit.s.localAddress(restart.passed(2, clientFd)), kit.s.peerAddress(accepted));
            assertEquals(clientAddress, kit.s.localAddress(restart.passed(2, clientFd)));
            int da = restart.passed(1, dgram[0]);
            int db = restart.passed(2, dgram[1]);
            assertEquals(Address.unixPath(b.toString()), kit.s.peerAddress(da));
            assertEquals(Address.unixPath(a.toString()), kit.s.peerAddress(db));
            assertArrayEquals("to b".getBytes(), kit.message(db));
            kit.s.send(db, "to a".getBytes(), 0, 4, null);
            assertArrayEquals("to a".getBytes(), kit.message(da));
        }
    }

    @Test
    void anotherKindOfSocketComesBackNew() throws Exception {
        FakeComputation checkpoint;
        int fd;
        try (Kit kit = new Kit()) {
            fd = kit.socket(Net.AF_NETLINK, Net.SOCK_DGRAM);
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, fd));
        }
        try (Kit kit = new Kit()) {
            FakeComputation restart = restart(kit, checkpoint);

            assertEquals(Net.AF_NETLINK, kit.s.intOption(restart.passed(1, fd), Net.SOL_SOCKET, Net.SO_DOMAIN));
            assertTrue(restart.log().stream().anyMatch(l -> l.contains("is not restored")), restart.log().toString());
        }
    }

    @Test
    void aUnixNameThatAnotherProgramNowUsesStopsTheRestart() throws Exception {
        Path name = temp.resolve("busy.sock");
        FakeComputation checkpoint;
        try (Kit kit = new Kit()) {
            int listener = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.bind(listener, Address.unixPath(name.toString()));
            kit.s.listen(listener, 4);
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, listener));
        }
        try (Kit kit = new Kit()) {
            Files.delete(name);
            int other = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.bind(other, Address.unixPath(name.toString()));
            kit.s.listen(other, 1);

            IOException e = assertThrows(IOException.class, () -> restart(kit, checkpoint));

            assertTrue(e.getMessage().contains(name + " again") && e.getMessage().contains("another program uses it"),
                    e.getMessage());
        }
    }

    @Test
    void aTcpListenerWhosePortIsTakenStopsTheRestart() throws Exception {
        FakeComputation checkpoint;
        Address service;
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            service = kit.s.localAddress(listener);
            checkpoint = checkpointAndKill(kit, new FakeComputation(Files.createDirectory(temp.resolve("c")))
                    .process(1, listener));
        }
        try (Kit kit = new Kit()) {
            int other = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.bind(other, service);
            kit.s.listen(other, 1);

            IOException e = assertThrows(IOException.class, () -> restart(kit, checkpoint));

            assertTrue(e.getMessage().contains("cannot listen on " + service), e.getMessage());
        }
    }
}
