package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.FdSource;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;
import org.stasis.api.testkit.FakeParts;

/**
 * TCP connections between the parts of a computation that spans hosts: two plugin
 * instances, one per part, run each event at the same time on their own threads and
 * exchange through {@link FakeParts}, which really synchronises them.
 */
class BetweenPartsTest {
    @TempDir
    Path temp;

    /** One part: its plugin instance and its computation. */
    private record Part(String name, SocketPlugin plugin, FakeComputation computation) {
    }

    private Part part(Kit kit, FakeParts parts, String name) throws Exception {
        FakeComputation computation = new FakeComputation(Files.createDirectories(temp.resolve(name)));
        return new Part(name, new SocketPlugin(kit.s, Path.of("/proc")), computation.part(name, parts));
    }

    private static void checkpoint(FakeParts parts, Part... each) throws Exception {
        checkpoint(parts, p -> { }, each);
    }

    /** @param place runs first on each part's thread (e.g. enters the part's host) */
    private static void checkpoint(FakeParts parts, Step place, Part... each) throws Exception {
        parts.newOperation();
        parts.run(LifecycleEvent.DRAIN, callbacks(each, place,
                p -> p.plugin().drain(p.computation().checkpoint(LifecycleEvent.DRAIN))));
        parts.run(LifecycleEvent.WRITE, callbacks(each, place, p -> p.plugin().write(p.computation().checkpoint())));
        parts.run(LifecycleEvent.RESUME, callbacks(each, place,
                p -> p.plugin().resume(p.computation().resume(ResumeContext.Outcome.RESUMED))));
        for (Part p : each) {
            p.computation().endOperation();
        }
    }

    /** Restarts each part from its checkpoint (at once); the restored descriptors are the kit's to close. */
    private static Map<String, FakeComputation> restart(Kit kit, FakeParts parts, Part... each) throws Exception {
        return restart(kit, parts, p -> { }, each);
    }

    private static Map<String, FakeComputation> restart(Kit kit, FakeParts parts, Step place, Part... each)
            throws Exception {
        parts.newOperation();
        Map<String, FakeComputation> restarted = new LinkedHashMap<>();
        for (Part p : each) {
            restarted.put(p.name(), p.computation().restarted());
        }
        parts.run(LifecycleEvent.RESTART, callbacks(each, place,
                p -> p.plugin().restart(restarted.get(p.name()).restart())));
        restarted.values().forEach(r -> r.installed().values().forEach(fds -> fds.values().forEach(
                source -> kit.track(((FdSource.Passed) source).descriptor()))));
        return restarted;
    }

    private interface Step {
        void run(Part part) throws Exception;
    }

    private static Map<String, FakeParts.Callback> callbacks(Part[] each, Step place, Step step) {
        Map<String, FakeParts.Callback> callbacks = new LinkedHashMap<>();
        for (Part p : each) {
            callbacks.put(p.name(), () -> {
                place.run(p);
                step.run(p);
            });
        }
        return callbacks;
    }

    private static String ip(Address address) {
        String text = address.toString();
        return text.substring(0, text.lastIndexOf(':'));
    }

    @Test
    void aConnectionBetweenTwoRealProgramsInTwoPartsIsDrainedResumedAndRestarted() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int aConn;
            int bConn;
            int aListener;
            int sentByA;
            int sentByB;
            Address aAddress;
            try (Peer a = Peer.start(temp, "a")) {
                String port = a.line()[1];
                try (Peer b = Peer.start(temp, "b", port)) {
                    String[] fa = a.line();
                    String[] fb = b.line();
                    aConn = a.take(Integer.parseInt(fa[1]));
                    aListener = a.take(Integer.parseInt(fa[2]));
                    sentByA = Integer.parseInt(fa[4]);
                    bConn = b.take(Integer.parseInt(fb[1]));
                    sentByB = Integer.parseInt(fb[3]);
                    aAddress = kit.s.localAddress(aConn);
                    assertEquals("127.0.0.2", ip(kit.s.localAddress(bConn)), "B is on another address");
                    assertTrue(sentByA > 100_000 && sentByB > 100_000, "data in flight both ways: " + sentByA + ", " + sentByB);
                    one.computation().process(1, aListener, aConn);
                    two.computation().process(1, bConn);

                    checkpoint(parts, one, two);

                    long aInode = Kit.inode(aConn);
                    long bInode = Kit.inode(bConn);
                    Map<String, String> r1 = one.computation().records();
                    Map<String, String> r2 = two.computation().records();
                    assertEquals("between " + bInode + " " + Kit.inode(aListener), r1.get("link." + aInode));
                    assertEquals("between " + aInode + " 0", r2.get("link." + bInode));
                    assertEquals("h2 " + bInode + " server 0", r1.get("between." + aInode), "A's listener took it: A listens");
                    assertEquals("h1 " + aInode + " client 0", r2.get("between." + bInode));
                    assertTrue(r1.get("queue." + aInode).endsWith(" " + sentByB + " bytes"), r1.toString());
                    assertTrue(r2.get("queue." + bInode).endsWith(" " + sentByA + " bytes"), r2.toString());
                    assertEquals(List.of("h1", "h2"), parts.exchanges().get("RESUME/inflight").stream().sorted().toList());

                    // The programs go on: every byte arrives once, in order, and the connection works.
                    a.tell("go " + sentByB);
                    b.tell("go " + sentByA);
                    assertEquals("ok", String.join(" ", a.line()));
                    assertEquals("ok", String.join(" ", b.line()));
                }
            } // both programs are killed and the JVM's descriptors of their sockets closed

            Map<String, FakeComputation> restarted = restart(kit, parts, one, two);
            int ra = restarted.get("h1").passed(1, aConn);
            int rb = restarted.get("h2").passed(1, bConn);
            assertEquals(kit.s.localAddress(ra).key(), kit.s.peerAddress(rb).key(), "connected to each other");
            assertEquals(kit.s.localAddress(rb).key(), kit.s.peerAddress(ra).key());
            assertEquals(aAddress, kit.s.localAddress(ra), "through the program's listener: A keeps its address");
            assertEquals("127.0.0.2", ip(kit.s.localAddress(rb)));
            assertArrayEquals(Arrays.copyOf(Kit.numbered("b", 200_000), sentByB), kit.read(ra, sentByB));
            assertArrayEquals(Arrays.copyOf(Kit.numbered("a", 200_000), sentByA), kit.read(rb, sentByA));
            assertTrue(kit.nothingWaiting(ra) && kit.nothingWaiting(rb), "nothing twice");
            kit.write(rb, "after restart".getBytes());
            assertArrayEquals("after restart".getBytes(), kit.read(ra, 13));
            int listener = restarted.get("h1").passed(1, aListener);
            assertEquals(1, kit.s.intOption(listener, Net.SOL_SOCKET, Net.SO_ACCEPTCONN), "the listener listens");
            assertEquals(List.of(), restarted.get("h1").log());
        }
    }

    /** @return {client on 127.0.0.2, server} of a connection through a listener on 127.0.0.1 */
    private static int[] across(Kit kit, int listener) throws Exception {
        int client = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
        byte[] ip = {127, 0, 0, 2};
        kit.s.bind(client, Address.inet(Net.AF_INET, ip, 0));
        kit.s.connect(client, kit.s.localAddress(listener));
        return new int[] {client, kit.track(kit.s.accept(listener))};
    }

    @Test
    void aPartWithoutSocketsStillExchangesAndAPartThatDoesNotComeBackLeavesItsPeerReset() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2", "h3");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            Part three = part(kit, parts, "h3");
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = across(kit, listener);
            byte[] up = Kit.numbered("up", 3000);
            kit.write(c[0], up);
            one.computation().process(1, c[0]); // the client, without a listener: part order decides
            two.computation().process(1, c[1]);
            int[] pipe = three.computation().descriptors().pipe();
            three.computation().process(1, pipe[0]);

            checkpoint(parts, one, two, three);

            assertEquals(List.of("h1", "h2", "h3"), parts.exchanges().get("DRAIN/tcp").stream().sorted().toList(),
                    "every part gave, the one without sockets too");
            long clientInode = Kit.inode(c[0]);
            assertEquals("h2 " + Kit.inode(c[1]) + " server 0", one.computation().records().get("between." + clientInode),
                    "no listener took either end: the first part by name listens");
            assertEquals("h1 " + clientInode + " client 0", two.computation().records().get("between." + Kit.inode(c[1])));
            assertArrayEquals(up, kit.read(c[1], up.length), "resumed: the bytes are back");
            Address server = kit.s.localAddress(c[1]);
            kit.close(c[0]);
            kit.close(c[1]);
            kit.close(listener);

            // Both come back: without the program's listener h1's end listens on a listener of its own.
            Map<String, FakeComputation> both = restart(kit, parts, one, two, three);
            int client = both.get("h1").passed(1, c[0]);
            int served = both.get("h2").passed(1, c[1]);
            assertEquals(kit.s.localAddress(client).key(), kit.s.peerAddress(served).key(), "connected to each other");
            assertEquals(kit.s.localAddress(served).key(), kit.s.peerAddress(client).key());
            assertEquals("127.0.0.2", ip(kit.s.localAddress(client)), "the listening end keeps its address");
            assertEquals(server, kit.s.peerAddress(client), "h2's end connected to it");
            assertArrayEquals(up, kit.read(served, up.length), "the bytes in flight are there again");
            assertTrue(kit.nothingWaiting(served) && kit.nothingWaiting(client));
            kit.write(served, "back".getBytes());
            assertArrayEquals("back".getBytes(), kit.read(client, 4));
            kit.close(client);
            kit.close(served);

            // Only h1 comes back: its end finds the connection reset, and the log names the part.
            Map<String, FakeComputation> restarted = restart(kit, parts, one);
            int alone = restarted.get("h1").passed(1, c[0]);
            kit.s.poll(new int[] {alone}, new int[] {Net.POLLIN}, 2000);
            SyscallException reset = assertThrows(SyscallException.class,
                    () -> kit.s.receive(alone, new byte[10], 0, null, null));
            assertEquals(104, reset.errno(), "ECONNRESET");
            assertTrue(restarted.get("h1").log().stream().anyMatch(l -> l.contains("part h2 did not come back")),
                    restarted.get("h1").log().toString());
        }
    }

    @Test
    void aLinkWhoseOtherPartIsAbsentLeadsOutsideAndIsNotTaken() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = across(kit, listener);
            byte[] down = Kit.numbered("down", 2000);
            kit.write(c[1], down);
            one.computation().process(1, c[0]);

            checkpoint(parts, one); // h2 ends every event without giving anything

            assertEquals("outside 0 0", one.computation().records().get("link." + Kit.inode(c[0])));
            assertTrue(one.computation().records().get("between." + Kit.inode(c[0])) == null);
            assertTrue(one.computation().records().get("queue." + Kit.inode(c[0])).endsWith(" " + down.length + " bytes"),
                    "peeked at");
            assertArrayEquals(down, kit.read(c[0], down.length), "and left in place");
        }
    }
    @Test
    void aSideShutBetweenPartsIsPeekedAtAndComesBackShut() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = across(kit, listener);
            byte[] request = Kit.numbered("request", 500);
            byte[] reply = Kit.numbered("reply", 700);
            kit.write(c[0], request);
            kit.s.shutdown(c[0], Net.SHUT_WR); // h1's client sent its request and shut its side
            kit.write(c[1], reply);
            one.computation().process(1, c[0]);
            two.computation().process(1, c[1], listener);

            checkpoint(parts, one, two);

            assertEquals(List.of(), one.computation().log());
            assertEquals(List.of(), two.computation().log());
            assertTrue(two.computation().records().get("queue." + Kit.inode(c[1])).endsWith(" " + request.length + " bytes"));
            assertArrayEquals(reply, kit.read(c[0], reply.length), "resumed: taken and put back");
            assertArrayEquals(request, kit.read(c[1], request.length), "peeked at, still there");
            kit.close(c[0]);
            kit.close(c[1]);
            kit.close(listener);

            Map<String, FakeComputation> restarted = restart(kit, parts, one, two);
            int client = restarted.get("h1").passed(1, c[0]);
            int server = restarted.get("h2").passed(1, c[1]);
            assertArrayEquals(request, kit.read(server, request.length));
            kit.s.poll(new int[] {server}, new int[] {Net.POLLIN}, 2000);
            assertEquals(0, kit.s.receive(server, new byte[8], 0, null, null), "then the end of the stream");
            assertArrayEquals(reply, kit.read(client, reply.length));
            kit.write(server, "more".getBytes());
            assertArrayEquals("more".getBytes(), kit.read(client, 4), "the other direction still works");
        }
    }
    @Test
    void connectionsBetweenTwoPartsAreDrainedTogetherAndEachFindsItsOwnEndThroughOneListener() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int listener = kit.tcpListener(Net.AF_INET);
            int[][] c = new int[3][];
            byte[][] up = new byte[3][];
            byte[][] down = new byte[3][];
            for (int i = 0; i < 3; i++) {
                c[i] = across(kit, listener);
                // More than the buffers hold without a reader: a cookie passes only while the other part reads.
                SocketOption.SNDBUF.write(kit.s, c[i][0], new long[] {1 << 20});
                SocketOption.SNDBUF.write(kit.s, c[i][1], new long[] {1 << 20});
                up[i] = Kit.random(600_000 + i, 10 + i);
                down[i] = Kit.random(500_000 + i, 20 + i);
                kit.write(c[i][0], up[i]);
                kit.write(c[i][1], down[i]);
            }
            // h1 holds the listener and the accepted ends; h2 the clients, in the other order.
            one.computation().process(1, listener, c[0][1], c[1][1], c[2][1]);
            two.computation().process(1, c[2][0], c[1][0], c[0][0]);

            checkpoint(parts, one, two);

            for (int i = 0; i < 3; i++) {
                assertArrayEquals(up[i], kit.read(c[i][1], up[i].length), "resumed: connection " + i);
                assertArrayEquals(down[i], kit.read(c[i][0], down[i].length));
            }
            for (int i = 0; i < 3; i++) {
                kit.close(c[i][0]);
                kit.close(c[i][1]);
            }
            kit.close(listener);

            Map<String, FakeComputation> restarted = restart(kit, parts, one, two);
            for (int i = 0; i < 3; i++) {
                int server = restarted.get("h1").passed(1, c[i][1]);
                int client = restarted.get("h2").passed(1, c[i][0]);
                assertEquals(kit.s.localAddress(client).key(), kit.s.peerAddress(server).key(), "connection " + i);
                assertArrayEquals(up[i], kit.read(server, up[i].length), "connection " + i + " up");
                assertArrayEquals(down[i], kit.read(client, down[i].length), "connection " + i + " down");
            }
        }
    }
    @Test
    void aClientOfAnotherPartsServiceOnThePortItsOwnPartListensOnIsBetweenPartsNotWaiting() throws Exception {
        // Every host runs the same service on the same port (MPI ranks, engines) and connects to the others'.
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int wildcard = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            SocketOption.REUSEPORT.write(kit.s, wildcard, new long[] {1});
            kit.s.bind(wildcard, Address.inet(Net.AF_INET, new byte[4], 0));
            kit.s.listen(wildcard, 4);
            int port = kit.s.localAddress(wildcard).port();
            int service = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            SocketOption.REUSEPORT.write(kit.s, service, new long[] {1});
            kit.s.bind(service, Address.inet(Net.AF_INET, new byte[] {127, 0, 0, 2}, port));
            kit.s.listen(service, 4);
            int client = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.connect(client, kit.s.localAddress(service));
            int served = kit.track(kit.s.accept(service));
            byte[] hello = Kit.numbered("hello", 100);
            kit.write(client, hello);
            one.computation().process(1, wildcard, client);
            two.computation().process(1, service, served);

            checkpoint(parts, one, two);

            assertEquals("between " + Kit.inode(served) + " 0", one.computation().records().get("link." + Kit.inode(client)),
                    "not waiting in h1's own listener on that port");
            assertEquals("h1 " + Kit.inode(client) + " server 0", two.computation().records().get("between." + Kit.inode(served)),
                    "h2's service took it: h2's end listens at restart");
            assertArrayEquals(hello, kit.read(served, hello.length));
        }
    }
    @Test
    void aConnectionBetweenTwoHostsComesBackOnOneHostAndOnTwo() throws Exception {
        assumeTrue(Hosts.available(), "needs root and ip to simulate hosts with network namespaces");
        FakeParts parts = new FakeParts("h1", "h2");
        try (Hosts hosts = new Hosts(2); Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            Map<String, Integer> placement = new LinkedHashMap<>(Map.of("h1", 1, "h2", 2));
            Step place = p -> hosts.enter(placement.get(p.name()));
            int aConn;
            int bConn;
            int sentByA;
            int sentByB;
            Address aAddress;
            try (Peer a = Peer.startIn(temp, hosts.host(1), "a", "192.0.2.1")) {
                String port = a.line()[1];
                try (Peer b = Peer.startIn(temp, hosts.host(2), "b", port, "192.0.2.2", "192.0.2.1")) {
                    String[] fa = a.line();
                    String[] fb = b.line();
                    aConn = a.take(Integer.parseInt(fa[1]));
                    int aListener = a.take(Integer.parseInt(fa[2]));
                    sentByA = Integer.parseInt(fa[4]);
                    bConn = b.take(Integer.parseInt(fb[1]));
                    sentByB = Integer.parseInt(fb[3]);
                    aAddress = kit.s.localAddress(aConn);
                    one.computation().process(1, aListener, aConn);
                    two.computation().process(1, bConn);

                    checkpoint(parts, place, one, two);

                    assertTrue(one.computation().records().get("link." + Kit.inode(aConn)).startsWith("between "));
                    a.tell("go " + sentByB);
                    b.tell("go " + sentByA);
                    assertEquals("ok", String.join(" ", a.line()));
                    assertEquals("ok", String.join(" ", b.line()));
                }
            }

            // Both parts on host 1: h2's end cannot have its address 192.0.2.2 there.
            placement.put("h2", 1);
            Map<String, FakeComputation> together = restart(kit, parts, place, one, two);
            int ra = together.get("h1").passed(1, aConn);
            int rb = together.get("h2").passed(1, bConn);
            assertEquals(aAddress, kit.s.localAddress(ra));
            assertEquals("192.0.2.1", ip(kit.s.localAddress(rb)), "h2's end is on host 1 now");
            assertEquals(kit.s.localAddress(rb).key(), kit.s.peerAddress(ra).key());
            assertArrayEquals(Arrays.copyOf(Kit.numbered("b", 200_000), sentByB), kit.read(ra, sentByB));
            assertArrayEquals(Arrays.copyOf(Kit.numbered("a", 200_000), sentByA), kit.read(rb, sentByA));
            assertTrue(together.get("h2").log().stream().anyMatch(l -> l.contains("192.0.2.2") && l.contains("not available")),
                    together.get("h2").log().toString());
            together.values().forEach(r -> r.installed().values().forEach(fds -> fds.values().forEach(
                    source -> kit.close(((FdSource.Passed) source).descriptor()))));

            // Each on its own host again: connected across the bridge.
            placement.put("h2", 2);
            Map<String, FakeComputation> apart = restart(kit, parts, place, one, two);
            ra = apart.get("h1").passed(1, aConn);
            rb = apart.get("h2").passed(1, bConn);
            assertEquals(aAddress, kit.s.localAddress(ra));
            assertEquals("192.0.2.2", ip(kit.s.localAddress(rb)));
            assertEquals(kit.s.localAddress(rb).key(), kit.s.peerAddress(ra).key());
            assertArrayEquals(Arrays.copyOf(Kit.numbered("b", 200_000), sentByB), kit.read(ra, sentByB));
            assertArrayEquals(Arrays.copyOf(Kit.numbered("a", 200_000), sentByA), kit.read(rb, sentByA));
            kit.write(rb, "across".getBytes());
            assertArrayEquals("across".getBytes(), kit.read(ra, 6));
        }
    }
    @Test
    void aConnectionOverLoopbackBetweenTwoPartsOfOneHostComesBackOnTwoHosts() throws Exception {
        assumeTrue(Hosts.available(), "needs root and ip to simulate hosts with network namespaces");
        FakeParts parts = new FakeParts("h1", "h2");
        try (Hosts hosts = new Hosts(2); Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int listener = kit.tcpListener(Net.AF_INET); // on 127.0.0.1: no other host reaches it
            int[] c = across(kit, listener);
            byte[] up = Kit.numbered("up", 4000);
            byte[] down = Kit.numbered("down", 3000);
            kit.write(c[0], up);
            kit.write(c[1], down);
            one.computation().process(1, listener, c[1]);
            two.computation().process(1, c[0]);
            checkpoint(parts, one, two);
            assertArrayEquals(up, kit.read(c[1], up.length));
            assertArrayEquals(down, kit.read(c[0], down.length));
            kit.close(c[0]);
            kit.close(c[1]);
            kit.close(listener);

            Map<String, Integer> placement = Map.of("h1", 1, "h2", 2);
            Map<String, FakeComputation> apart = restart(kit, parts, p -> hosts.enter(placement.get(p.name())), one, two);
            int server = apart.get("h1").passed(1, c[1]);
            int client = apart.get("h2").passed(1, c[0]);
            assertEquals("192.0.2.1", ip(kit.s.localAddress(server)), "reached through a listener on host 1's address");
            assertEquals("192.0.2.2", ip(kit.s.localAddress(client)), "a loopback address cannot reach another host");
            assertEquals(kit.s.localAddress(client).key(), kit.s.peerAddress(server).key());
            assertArrayEquals(up, kit.read(server, up.length));
            assertArrayEquals(down, kit.read(client, down.length));
        }
    }
    @Test
    void anIpv4ClientOfADualStackListenerInAnotherPartIsBetweenPartsAndComesBack() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int listener = kit.socket(Net.AF_INET6, Net.SOCK_STREAM); // [::]: IPv4 clients show as ::ffff:a.b.c.d
            kit.s.bind(listener, Address.inet(Net.AF_INET6, new byte[16], 0));
            kit.s.listen(listener, 4);
            int client = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.bind(client, Address.inet(Net.AF_INET, new byte[] {127, 0, 0, 2}, 0));
            kit.s.connect(client, Address.loopback(Net.AF_INET, kit.s.localAddress(listener).port()));
            int served = kit.track(kit.s.accept(listener));
            Address servedAt = kit.s.localAddress(served);
            byte[] up = Kit.numbered("up", 2000);
            byte[] down = Kit.numbered("down", 1000);
            kit.write(client, up);
            kit.write(served, down);
            one.computation().process(1, listener, served);
            two.computation().process(1, client);

            checkpoint(parts, one, two);

            assertTrue(two.computation().records().get("link." + Kit.inode(client)).startsWith("between "));
            assertArrayEquals(up, kit.read(served, up.length));
            assertArrayEquals(down, kit.read(client, down.length));
            kit.close(client);
            kit.close(served);
            kit.close(listener);

            Map<String, FakeComputation> restarted = restart(kit, parts, one, two);
            int s = restarted.get("h1").passed(1, served);
            int c = restarted.get("h2").passed(1, client);
            assertEquals(servedAt, kit.s.localAddress(s), "accepted again through the dual-stack listener");
            assertEquals(Net.AF_INET, kit.s.localAddress(c).family());
            assertEquals(kit.s.localAddress(c).key(), kit.s.peerAddress(s).key());
            assertArrayEquals(up, kit.read(s, up.length));
            assertArrayEquals(down, kit.read(c, down.length));
        }
    }
    @Test
    void aClientWaitingInAnotherPartsListenerWaitsThereAgainAfterARestart() throws Exception {
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int listener = kit.socket(Net.AF_INET, Net.SOCK_STREAM); // on the any-address: h2's host addresses decide
            kit.s.bind(listener, Address.inet(Net.AF_INET, new byte[4], 0));
            kit.s.listen(listener, 4);
            Address service = Address.loopback(Net.AF_INET, kit.s.localAddress(listener).port());
            int client = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.bind(client, Address.inet(Net.AF_INET, new byte[] {127, 0, 0, 2}, 0));
            kit.s.connect(client, service);
            kit.write(client, "hello".getBytes());
            one.computation().process(1, client);
            two.computation().process(1, listener);

            checkpoint(parts, one, two);

            long listenerInode = Kit.inode(listener);
            assertEquals("between " + listenerInode + " 0", one.computation().records().get("link." + Kit.inode(client)));
            assertEquals("h2 " + listenerInode + " client 0 waiting",
                    one.computation().records().get("between." + Kit.inode(client)));
            assertEquals("h1:" + Kit.inode(client), two.computation().records().get("waiters." + listenerInode));
            int accepted = kit.track(kit.s.accept(listener));
            assertArrayEquals("hello".getBytes(), kit.read(accepted, 5), "untouched by the checkpoint");
            kit.close(accepted);
            kit.close(client);
            kit.close(listener);

            Map<String, FakeComputation> restarted = restart(kit, parts, one, two);
            int newListener = restarted.get("h2").passed(1, listener);
            int newClient = restarted.get("h1").passed(1, client);
            assertTrue((kit.s.poll(new int[] {newListener}, new int[] {Net.POLLIN}, 2000)[0] & Net.POLLIN) != 0,
                    "the client waits in the listener again");
            int again = kit.track(kit.s.accept(newListener));
            assertEquals(kit.s.localAddress(newClient).key(), kit.s.peerAddress(again).key());
            kit.write(newClient, "again".getBytes());
            assertArrayEquals("again".getBytes(), kit.read(again, 5));
            assertTrue(restarted.get("h1").log().stream().anyMatch(l -> l.contains("waiting to be accepted by part h2")),
                    restarted.get("h1").log().toString());
        }
    }

    @Test
    void anIpv6OnlyListenerOfAnotherPartOnTheSamePortIsNotWhereAnIpv4ClientWaits() throws Exception {
        // Open MPI: one rank listens on 0.0.0.0:P, a rank of another part on [::]:P with IPV6_V6ONLY.
        FakeParts parts = new FakeParts("h1", "h2");
        try (Kit kit = new Kit()) {
            Part one = part(kit, parts, "h1");
            Part two = part(kit, parts, "h2");
            int four = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.bind(four, Address.inet(Net.AF_INET, new byte[4], 0));
            kit.s.listen(four, 4);
            int port = kit.s.localAddress(four).port();
            int six = kit.socket(Net.AF_INET6, Net.SOCK_STREAM);
            SocketOption.V6ONLY.write(kit.s, six, new long[] {1});
            kit.s.bind(six, Address.inet(Net.AF_INET6, new byte[16], port));
            kit.s.listen(six, 4);
            int client = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.connect(client, Address.loopback(Net.AF_INET, port));
            kit.write(client, "hello".getBytes());
            one.computation().process(1, four, client);
            two.computation().process(1, six);
            long clientInode = Kit.inode(client); // the checkpoint takes it out of the queue and puts a new one back

            checkpoint(parts, one, two);

            String link = one.computation().records().get("link." + clientInode);
            assertTrue(link.startsWith("waiting "), "waits in h1's own IPv4 listener: " + link);
            assertEquals(null, two.computation().records().get("waiters." + Kit.inode(six)),
                    "the V6ONLY listener of h2 takes no IPv4 connection: " + two.computation().records());
            kit.close(client);
            kit.close(six);
            kit.close(four);

            Map<String, FakeComputation> restarted = restart(kit, parts, one, two);
            int newFour = restarted.get("h1").passed(1, four);
            int newSix = restarted.get("h2").passed(1, six);
            int newClient = restarted.get("h1").passed(1, client);
            assertTrue((kit.s.poll(new int[] {newFour}, new int[] {Net.POLLIN}, 2000)[0] & Net.POLLIN) != 0,
                    "the client waits in h1's IPv4 listener again");
            assertEquals(0, kit.s.poll(new int[] {newSix}, new int[] {Net.POLLIN}, 0)[0] & Net.POLLIN,
                    "nothing waits in h2's V6ONLY listener");
            int accepted = kit.track(kit.s.accept(newFour));
            assertEquals(kit.s.localAddress(newClient).key(), kit.s.peerAddress(accepted).key());
        }
    }
}
