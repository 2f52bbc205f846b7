package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.FdSource;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;

/**
 * The plugin's whole cycle on real sockets of this JVM, with the core played by
 * {@link FakeComputation}: drain, write, resume after a checkpoint, and restart from the
 * written records once the original sockets are gone.
 */
class SocketPluginTest {
    private static final int O_NONBLOCK = 04000;

    @TempDir
    Path temp;

    private SocketPlugin plugin(Kit kit) {
        return new SocketPlugin(kit.s, Path.of("/proc"));
    }

    private FakeComputation checkpoint(Kit kit, SocketPlugin plugin, FakeComputation context) throws Exception {
        plugin.drain(context.checkpoint(LifecycleEvent.DRAIN));
        plugin.write(context.checkpoint());
        plugin.resume(context.resume(ResumeContext.Outcome.RESUMED));
        context.endOperation();
        return context;
    }

    @Test
    void afterACheckpointEveryByteInFlightIsBackInOrder() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] tcp = kit.tcpConnect(listener, Net.AF_INET);
            int[] unix = kit.unixPair(Net.SOCK_STREAM);
            int[] dgram = kit.unixPair(Net.SOCK_DGRAM);
            byte[] up = Kit.random(2 << 20, 11);
            byte[] down = Kit.numbered("down", 500);
            byte[] side = Kit.numbered("unix", 300);
            kit.write(tcp[0], up);
            kit.write(tcp[1], down);
            kit.write(unix[0], side);
            kit.s.send(dgram[0], "m1".getBytes(), 0, 2, null);
            kit.s.send(dgram[0], "m2".getBytes(), 0, 2, null);
            FakeComputation context = new FakeComputation(Files.createDirectory(temp.resolve("ckpt")))
                    .process(1, listener, tcp[1], unix[1], dgram[1]).process(2, tcp[0], unix[0], dgram[0]);

            checkpoint(kit, plugin(kit), context);
            kit.write(tcp[0], "then".getBytes());

            assertArrayEquals(up, kit.read(tcp[1], up.length));
            assertArrayEquals("then".getBytes(), kit.read(tcp[1], 4));
            assertArrayEquals(down, kit.read(tcp[0], down.length));
            assertArrayEquals(side, kit.read(unix[1], side.length));
            assertArrayEquals("m1".getBytes(), kit.message(dgram[1]));
            assertArrayEquals("m2".getBytes(), kit.message(dgram[1]));
            assertTrue(kit.nothingWaiting(tcp[1]) && kit.nothingWaiting(unix[1]) && kit.nothingWaiting(dgram[1]));
            Map<String, String> records = context.records();
            assertEquals("pair " + Kit.inode(tcp[1]) + " " + Kit.inode(listener),
                    records.get("link." + Kit.inode(tcp[0])));
            assertEquals("pair " + Kit.inode(unix[0]) + " 0", records.get("link." + Kit.inode(unix[1])));
            assertTrue(records.get("queue." + Kit.inode(tcp[1])).endsWith(up.length + " bytes"));
            assertTrue(Files.size(temp.resolve("ckpt/queue-" + Kit.inode(tcp[1]) + ".bin")) > up.length);
        }
    }

    @Test
    void bytesASenderStillHeldWhenItShutItsSideAreSavedWithoutDisturbingTheProgram() throws Exception {
        try (Kit kit = new Kit()) {
            // A small receive buffer (inherited from the listener) keeps most of the data with the sender.
            int listener = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            SocketOption.RCVBUF.write(kit.s, listener, new long[] {8192});
            kit.s.bind(listener, Address.loopback(Net.AF_INET, 0));
            kit.s.listen(listener, 1);
            int[] tcp = kit.tcpConnect(listener, Net.AF_INET);
            SocketOption.SNDBUF.write(kit.s, tcp[0], new long[] {1 << 20});
            byte[] data = Kit.random(200_000, 5);
            kit.write(tcp[0], data);
            kit.s.shutdown(tcp[0], Net.SHUT_WR);
            Thread.sleep(50);
            assertTrue(kit.s.outQueue(tcp[0]) > 100_000, "the sender holds bytes");
            FakeComputation context = new FakeComputation(Files.createDirectory(temp.resolve("ckpt")))
                    .process(1, tcp[1]).process(2, tcp[0]);

            checkpoint(kit, plugin(kit), context);

            assertTrue(context.log().isEmpty(), context.log().toString());
            assertEquals("queue-" + Kit.inode(tcp[1]) + ".bin " + data.length + " bytes",
                    context.checkpoint().records().get("queue." + Kit.inode(tcp[1])).orElseThrow());
            assertEquals(8192, SocketOption.RCVBUF.read(kit.s, tcp[1])[0], "the program's buffer size is back");
            assertArrayEquals(data, kit.read(tcp[1], data.length), "the program still gets every byte, in order");
            kit.s.poll(new int[] {tcp[1]}, new int[] {Net.POLLIN}, 1000);
            assertEquals(0, kit.s.receive(tcp[1], new byte[8], 0, null, null), "then the end of the stream");
        }
    }

    @Test
    void aRestartRebuildsConnectionsListenersQueuesAndOptions() throws Exception {
        Path ckpt = Files.createDirectory(temp.resolve("ckpt"));
        Path unixListenerPath = temp.resolve("service.sock");
        Path dgramPath = temp.resolve("log.sock");
        Path senderPath = temp.resolve("sender.sock");
        byte[] abstractName = ("stasis-test-" + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
        byte[] up = Kit.numbered("client", 20_000);
        byte[] down = Kit.numbered("server", 50);
        Address tcpService;
        Address clientAddress;
        Address outsideService;
        FakeComputation context;
        Map<String, Integer> fd = new java.util.HashMap<>();
        try (Kit kit = new Kit()) {
            // TCP: a listener with a connection it accepted, data both ways, options set.
            int listener = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            SocketOption.REUSEADDR.write(kit.s, listener, new long[] {1});
            kit.s.bind(listener, Address.loopback(Net.AF_INET, 0));
            kit.s.listen(listener, 5);
            tcpService = kit.s.localAddress(listener);
            int[] tcp = kit.tcpConnect(listener, Net.AF_INET);
            clientAddress = kit.s.localAddress(tcp[0]);
            SocketOption.NODELAY.write(kit.s, tcp[0], new long[] {1});
            SocketOption.KEEPALIVE.write(kit.s, tcp[0], new long[] {1});
            SocketOption.KEEPIDLE.write(kit.s, tcp[0], new long[] {77});
            kit.s.fcntl(tcp[0], 4 /* F_SETFL */, O_NONBLOCK | 2);
            int clientCopy = kit.track(kit.s.dup(tcp[0]));
            kit.write(tcp[0], up);
            kit.write(tcp[1], down);
            // Unix: a path listener with an accepted connection and a client still waiting.
            int unixListener = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.bind(unixListener, Address.unixPath(unixListenerPath.toString()));
            kit.s.listen(unixListener, 8);
            int unixClient = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.connect(unixClient, Address.unixPath(unixListenerPath.toString()));
            int unixServer = kit.track(kit.s.accept(unixListener));
            int unixWaiting = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.connect(unixWaiting, Address.unixPath(unixListenerPath.toString()));
            kit.write(unixClient, "hello service\n".getBytes());
            kit.write(unixServer, "hello client\n".getBytes());
            // An abstract listener, a socket pair, a datagram receiver with three senders' messages.
            int abstractListener = kit.socket(Net.AF_UNIX, Net.SOCK_SEQPACKET);
            kit.s.bind(abstractListener, Address.unixAbstract(abstractName));
            kit.s.listen(abstractListener, 3);
            int[] pair = kit.unixPair(Net.SOCK_SEQPACKET);
            kit.s.send(pair[0], "packet one".getBytes(), 0, 10, null);
            kit.s.send(pair[0], "packet two".getBytes(), 0, 10, null);
            int receiver = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            Address rx = Address.unixPath(dgramPath.toString());
            kit.s.bind(receiver, rx);
            int named = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            kit.s.bind(named, Address.unixPath(senderPath.toString()));
            int unnamed = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            kit.s.connect(unnamed, rx);
            kit.s.send(named, "from named".getBytes(), 0, 10, rx);
            kit.s.send(unnamed, "from unnamed".getBytes(), 0, 12, null);
            // UDP over IPv6: a receiver and a connected sender with two datagrams in flight.
            int udpReceiver = kit.socket(Net.AF_INET6, Net.SOCK_DGRAM);
            kit.s.bind(udpReceiver, Address.loopback(Net.AF_INET6, 0));
            int udpSender = kit.socket(Net.AF_INET6, Net.SOCK_DGRAM);
            kit.s.connect(udpSender, kit.s.localAddress(udpReceiver));
            kit.s.send(udpSender, "udp 1".getBytes(), 0, 5, null);
            kit.s.send(udpSender, "udp 2".getBytes(), 0, 5, null);
            // A connection to a server outside the computation.
            int outsideListener = kit.tcpListener(Net.AF_INET);
            outsideService = kit.s.localAddress(outsideListener);
            int[] outside = kit.tcpConnect(outsideListener, Net.AF_INET);

            fd.put("listener", listener);
            fd.put("server", tcp[1]);
            fd.put("client", tcp[0]);
            fd.put("clientCopy", clientCopy);
            fd.put("unixServer", unixServer);
            fd.put("unixListener", unixListener);
            fd.put("abstractListener", abstractListener);
            fd.put("receiver", receiver);
            fd.put("udpReceiver", udpReceiver);
            fd.put("outside", outside[0]);
            context = new FakeComputation(ckpt)
                    .process(1, listener, tcp[1], unixListener, unixServer, abstractListener, pair[0], receiver, udpReceiver)
                    .process(2, tcp[0], clientCopy, unixClient, unixWaiting, pair[1], named, unnamed, udpSender,
                            outside[0]);
            long waitingInode = Kit.inode(unixWaiting); // the resume puts a new client at its descriptor
            checkpoint(kit, plugin(kit), context);
            assertEquals("outside 0 0", context.checkpoint().records().get("link." + Kit.inode(outside[0])).orElseThrow());
            assertEquals("waiting " + Kit.inode(unixListener) + " 0",
                    context.checkpoint().records().get("link." + waitingInode).orElseThrow());
            assertTrue(context.checkpoint().records().get("unaccepted." + waitingInode).isPresent(), "the waiting client was taken");
            assertNotEquals(waitingInode, Kit.inode(unixWaiting), "and put back as a new socket");
            assertEquals("to " + Kit.inode(receiver) + " 0", context.checkpoint().records().get("link." + Kit.inode(unnamed)).orElseThrow());
        } // every original socket is closed here, as when the processes are killed

        try (Kit kit = new Kit()) {
            FakeComputation restart = context.restarted();
            plugin(kit).restart(restart.restart());
            restart.installed().values().forEach(fds -> fds.values().forEach(
                    source -> kit.track(((FdSource.Passed) source).descriptor())));
            // TCP: same addresses, shared description, flags, options, data in order both ways.
            int client = restart.passed(2, fd.get("client"));
            assertEquals(client, restart.passed(2, fd.get("clientCopy")), "both descriptors share one socket");
            FdSource.Passed clientSource = (FdSource.Passed) restart.installed(2).get(fd.get("client"));
            assertEquals(O_NONBLOCK, clientSource.flags() & O_NONBLOCK);
            int tcpListener = restart.passed(1, fd.get("listener"));
            assertEquals(tcpService, kit.s.localAddress(tcpListener));
            assertEquals(clientAddress, kit.s.localAddress(client));
            assertEquals(tcpService, kit.s.peerAddress(client));
            assertEquals(1, kit.s.intOption(client, Net.IPPROTO_TCP, 1), "TCP_NODELAY");
            assertEquals(77, kit.s.intOption(client, Net.IPPROTO_TCP, 4), "TCP_KEEPIDLE");
            assertEquals(1, kit.s.intOption(client, Net.SOL_SOCKET, 9), "SO_KEEPALIVE");
            assertEquals(1, kit.s.intOption(tcpListener, Net.SOL_SOCKET, Net.SO_REUSEADDR), "SO_REUSEADDR");
            assertEquals(5, ByteBuffer.wrap(kit.s.option(tcpListener, Net.IPPROTO_TCP, Net.TCP_INFO, 104))
                    .order(ByteOrder.nativeOrder()).getInt(28), "backlog");
            int server = restart.passed(1, fd.get("server"));
            assertEquals(clientAddress, kit.s.peerAddress(server));
            assertArrayEquals(up, kit.read(server, up.length));
            assertArrayEquals(down, kit.read(client, down.length));
            kit.write(client, "more".getBytes());
            assertArrayEquals("more".getBytes(), kit.read(server, 4));
            int third = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.connect(third, tcpService);
            assertTrue(kit.s.poll(new int[] {tcpListener}, new int[] {Net.POLLIN}, 1000)[0] != 0, "listening again");

            // Unix: the accepted connection keeps its names, the waiting client waits again.
            int unixServer = restart.passed(1, fd.get("unixServer"));
            assertEquals(Address.unixPath(unixListenerPath.toString()), kit.s.localAddress(unixServer));
            assertArrayEquals("hello service\n".getBytes(), kit.read(unixServer, 14));
            int unixListener = restart.passed(1, fd.get("unixListener"));
            assertEquals(1, kit.s.intOption(unixListener, Net.SOL_SOCKET, Net.SO_ACCEPTCONN));
            int waiting = kit.track(kit.s.accept(unixListener));
            kit.write(waiting, "you waited".getBytes());
            int abstractListener = restart.passed(1, fd.get("abstractListener"));
            assertEquals(Address.unixAbstract(abstractName), kit.s.localAddress(abstractListener));
            assertEquals(Net.SOCK_SEQPACKET, kit.s.intOption(abstractListener, Net.SOL_SOCKET, Net.SO_TYPE));
            assertTrue(restart.log().stream().noneMatch(l -> l.contains("was waiting to be accepted")),
                    "the waiting client's (empty) data was saved, nothing is reported lost: " + restart.log());

            // Datagrams: boundaries, order and named senders survive.
            int receiver = restart.passed(1, fd.get("receiver"));
            byte[] buffer = new byte[64];
            byte[] from = new byte[128];
            int[] fromLength = {from.length};
            assertEquals(10, kit.s.receive(receiver, buffer, 0, from, fromLength));
            assertEquals(senderPath.toString(), new Address(Arrays.copyOf(from, fromLength[0])).path());
            assertArrayEquals("from unnamed".getBytes(), kit.message(receiver));
            assertNull(kit.message(receiver));
            int udp = restart.passed(1, fd.get("udpReceiver"));
            assertArrayEquals("udp 1".getBytes(), kit.message(udp));
            assertArrayEquals("udp 2".getBytes(), kit.message(udp));

            // The connection to the outside server is reset, and the log names it.
            int outside = restart.passed(2, fd.get("outside"));
            kit.s.poll(new int[] {outside}, new int[] {Net.POLLIN}, 1000);
            SyscallException reset = assertThrows(SyscallException.class,
                    () -> kit.s.receive(outside, new byte[10], 0, null, null));
            assertEquals(104, reset.errno(), "ECONNRESET");
            assertTrue(restart.log().stream().anyMatch(l -> l.contains(outsideService.toString()) && l.contains("reset")),
                    restart.log().toString());
        }
    }
}
