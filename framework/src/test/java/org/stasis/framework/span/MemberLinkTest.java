package org.stasis.framework.span;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.LifecycleEvent;
import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.SpanOperation;
import org.stasis.framework.lifecycle.SpanOperation.Barrier;
import org.stasis.framework.store.Manifest;

/**
 * The main's member registry and a real member link over loopback TCP, with a fake
 * member part that walks the barriers and exchanges the way the lifecycle does.
 */
@Timeout(60)
class MemberLinkTest {
    @TempDir
    Path temp;

    private final Diagnostics diagnostics = new Diagnostics(new EventLog(100), new PrintStream(new ByteArrayOutputStream()));
    private Members main;
    private ServerSocketChannel server;
    private MemberLink member;
    private final BlockingQueue<Object> heard = new LinkedBlockingQueue<>();
    /** The member's parts' processes, as its coordinator would tell them. */
    private volatile List<Long> pids = List.of(42L);
    private volatile String failAt;
    // Holds the member's part before it reaches "suspended" (a member that is slow there).
    private final java.util.concurrent.CountDownLatch beforeSuspended = new java.util.concurrent.CountDownLatch(0);
    private volatile java.util.concurrent.CountDownLatch holdBeforeSuspended = beforeSuspended;
    private final List<SocketChannel> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void listen() throws IOException {
        main = new Members(() -> "h1", () -> Set.of("c1"), diagnostics);
        server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    SocketChannel channel = server.accept();
                    accepted.add(channel);
                    skipLines(channel, 2); // TOKEN and JOIN: the control listener's part
                    main.accept(channel, new byte[0]);
                }
            } catch (IOException e) {
                // the test ends
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        Path token = Files.writeString(temp.resolve("token"), "abc\n");
        member = MemberLink.join("127.0.0.1:" + ((InetSocketAddress) server.getLocalAddress()).getPort(), token, "h2",
                fakeParts(), diagnostics);
    }

    @AfterEach
    void close() throws IOException {
        member.close();
        server.close();
    }

    private static void skipLines(SocketChannel channel, int lines) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        while (lines > 0) {
            one.clear();
            if (channel.read(one) < 0) {
                throw new IOException("closed");
            }
            if (one.get(0) == '\n') {
                lines--;
            }
        }
    }

    // What the member's lifecycle does with its span, in order; fails where failAt says.
    private MemberLink.Parts fakeParts() {
        return new MemberLink.Parts() {
            @Override
            public String reserve() {
                return "c7";
            }

            @Override
            public List<Long> pids(String part) {
                return pids;
            }

            @Override
            public String restart(Path checkpoint, RestartChoices choices, SpanOperation span) throws Exception {
                if (checkpoint.toString().contains("damaged")) {
                    throw new IOException("checkpoint " + checkpoint + " is damaged");
                }
                if (span.spans()) {
                    try {
                        Map<String, byte[]> all = span.exchange("socket", LifecycleEvent.RESTART, "listen",
                                bytes("h2 listens"));
                        heard.add(all);
                        span.ended("*", LifecycleEvent.RESTART);
                    } finally {
                        span.end();
                    }
                }
                heard.add(String.join(" ", Stream.concat(Stream.of("restart", checkpoint.toString()),
                        choices.restorerOptions().stream()).toList()));
                return "c9";
            }

            @Override
            public int kill(String part) {
                heard.add("kill " + part);
                return 3;
            }

            @Override
            public void checkpoint(String part, boolean full, SpanOperation span) throws OperationFailedException {
                try {
                    span.begin("member-c7-1", 1);
                    span.reach(Barrier.PREPARED, null);
                    holdBeforeSuspended.await(10, TimeUnit.SECONDS);
                    span.reach(Barrier.SUSPENDED, null);
                    if ("drain".equals(failAt)) {
                        throw new OperationFailedException("plugin socket failed in drain", null);
                    }
                    Map<String, byte[]> all = span.exchange("socket", LifecycleEvent.DRAIN, "tcp", bytes("from h2"));
                    heard.add(all);
                    span.ended("socket", LifecycleEvent.DRAIN);
                    span.ended("*", LifecycleEvent.DRAIN);
                    span.reach(Barrier.DRAINED, null);
                    span.reach(Barrier.WRITTEN, new SpanOperation.PartCheckpoint("member-c7-1", "/ck/member-c7-1", 1));
                    span.reach(Barrier.SEALED, null);
                    heard.add("committed " + span.spanId() + " as " + span.part() + " of " + span.parts());
                } catch (OperationFailedException e) {
                    span.abort(e.getMessage());
                    heard.add("aborted: " + e.getMessage());
                    throw e;
                } catch (IOException e) {
                    span.abort(e.getMessage());
                    heard.add("aborted: " + e.getMessage());
                    throw new OperationFailedException(e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new OperationFailedException("interrupted", e);
                } finally {
                    span.end();
                }
            }
        };
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private String launchPart() throws IOException {
        String part = member.launch("");
        assertEquals("c7", part);
        assertEquals("c1", member.computationOf("c7"));
        return part;
    }

    @Test
    void aPartJoinsTheOnlyComputationAndIsListed() throws Exception {
        launchPart();
        List<Members.Part> parts = main.parts("c1");
        assertEquals(1, parts.size());
        assertEquals("h2", parts.get(0).host());
        assertEquals("c7", parts.get(0).part());
        long until = System.currentTimeMillis() + 5_000;
        while (main.parts("c1").get(0).pids().isEmpty() && System.currentTimeMillis() < until) {
            Thread.sleep(50);
        }
        assertEquals(List.of(42L), main.parts("c1").get(0).pids(), "the member tells its pids");
        assertEquals(SpanOperation.NONE, main.operation("c2", false), "a computation without parts is on one host");
    }

    @Test
    void killingAComputationKillsItsPartsOnTheMembersAndCountsThem() throws Exception {
        launchPart();
        assertEquals(Map.of("h2", 3), main.kill("c1"));
        assertEquals("kill c7", heard.poll(10, TimeUnit.SECONDS));
        assertEquals(Map.of(), main.kill("c2"), "a computation without parts");
    }

    @Test
    void aMemberRestartsAPartPlacedOnItAndItJoinsTheRestartedComputation() throws Exception {
        assertEquals(Set.of("h1", "h2"), main.hosts());
        main.expect("c5");
        main.restartOn("h2", "h2", "/ck/member-c7-1", "c5", RestartChoices.PLAIN);
        assertEquals("restart /ck/member-c7-1", heard.poll(10, TimeUnit.SECONDS));
        assertEquals("c5", member.computationOf("c9"));
        long until = System.currentTimeMillis() + 5_000;
        while (main.parts("c5").isEmpty() && System.currentTimeMillis() < until) {
            Thread.sleep(50);
        }
        assertEquals("c9", main.parts("c5").get(0).part());
        IOException e = assertThrows(IOException.class, () -> main.restartOn("h2", "h2", "/ck/damaged", "",
                RestartChoices.PLAIN));
        assertTrue(e.getMessage().contains("could not restart part h2: checkpoint /ck/damaged is damaged"),
                e.getMessage());
        assertThrows(IOException.class, () -> main.restartOn("h3", "h3", "/ck/x", "", RestartChoices.PLAIN));
    }

    @Test
    void aRestartedPartKilledBeforeTheMembersFirstLookIsGoneAtTheMain() throws Exception {
        main.expect("c5");
        main.restartOn("h2", "h2", "/ck/member-c7-1", "c5", RestartChoices.PLAIN);
        assertEquals(1, main.parts("c5").size(), "the restarted part joins the main's computation");
        pids = List.of(); // killed at once: before the member's watch (every second) saw its processes
        long until = System.currentTimeMillis() + 10_000;
        while (!main.parts("c5").isEmpty() && System.currentTimeMillis() < until) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), main.parts("c5"), "a killed part stays a part of the main's computation");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aRestartAcrossHostsExchangesBetweenItsParts() throws Exception {
        Map<String, String> placed = new java.util.LinkedHashMap<>();
        placed.put("h1", "h1");
        placed.put("h2", "h2");
        Map<String, SpanOperation> spans = main.restartAcross("main-c1-1-restart", placed, Map.of("h1",
                "/ck/main-c1-1", "h2", "/ck/member-c7-1"), "c5", new RestartChoices(false, false, true), "h1");
        assertEquals(List.of("h1"), List.copyOf(spans.keySet()));
        SpanOperation mine = spans.get("h1");
        assertEquals("h1", mine.part());
        assertEquals("main-c1-1-restart", mine.group());
        assertEquals(List.of("h1", "h2"), mine.parts());
        Map<String, byte[]> all = mine.exchange("socket", LifecycleEvent.RESTART, "listen", bytes("h1 listens"));
        assertEquals("h2 listens", new String(all.get("h2"), StandardCharsets.UTF_8));
        Map<String, byte[]> theirs = (Map<String, byte[]>) heard.poll(10, TimeUnit.SECONDS);
        assertEquals("h1 listens", new String(theirs.get("h1"), StandardCharsets.UTF_8));
        assertEquals("restart /ck/member-c7-1 --no-verify", heard.poll(10, TimeUnit.SECONDS),
                "the user's --no-verify holds for the member's part too");
        mine.ended("*", LifecycleEvent.RESTART);
        mine.end();
    }

    @Test
    void aMemberWhoseLinkWasLostJoinsAgainWithItsParts() throws Exception {
        launchPart();
        accepted.get(0).close();    // the main's end of the link goes away
        long until = System.currentTimeMillis() + 5_000;
        while (member.lostWhy() == null && System.currentTimeMillis() < until) {
            Thread.sleep(20);
        }
        assertTrue(member.lostWhy() != null, "the member did not notice");
        until = System.currentTimeMillis() + 5_000;
        while (!"lost".equals(main.parts("c1").get(0).state()) && System.currentTimeMillis() < until) {
            Thread.sleep(20);
        }
        assertEquals("lost", main.parts("c1").get(0).state());
        until = System.currentTimeMillis() + 15_000;
        while ((member.lostWhy() != null || !"running".equals(main.parts("c1").get(0).state()))
                && System.currentTimeMillis() < until) {
            Thread.sleep(50);
        }
        assertEquals(null, member.lostWhy(), "the member did not join again");
        assertEquals("running", main.parts("c1").get(0).state(), "its part is not back");
        assertEquals(2, accepted.size());
        SpanOperation op = main.operation("c1", false);
        assertTrue(op.spans(), "a checkpoint takes the part again");
        op.abort("test over");
        op.end();
    }

    @Test
    void aPartOfAComputationTheMainDoesNotRunIsRefused() {
        IOException e = assertThrows(IOException.class, () -> member.launch("c9"));
        assertTrue(e.getMessage().contains("runs no computation c9"), e.getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void oneCheckpointWalksEveryBarrierExchangesAndCommits() throws Exception {
        launchPart();
        SpanOperation op = main.operation("c1", false);
        assertTrue(op.spans());
        assertEquals(List.of("h1", "h2"), op.parts());
        op.begin("main-c1-1", 1);
        op.reach(Barrier.PREPARED, null);
        op.reach(Barrier.SUSPENDED, null);
        Map<String, byte[]> all = op.exchange("socket", LifecycleEvent.DRAIN, "tcp", bytes("from h1"));
        assertEquals("from h2", new String(all.get("h2"), StandardCharsets.UTF_8));
        assertEquals("from h1", new String(all.get("h1"), StandardCharsets.UTF_8));
        op.ended("socket", LifecycleEvent.DRAIN);
        op.ended("*", LifecycleEvent.DRAIN);
        Map<String, byte[]> theirs = (Map<String, byte[]>) heard.poll(10, TimeUnit.SECONDS);
        assertEquals(Set.of("h1", "h2"), theirs.keySet());
        assertEquals("from h1", new String(theirs.get("h1"), StandardCharsets.UTF_8));
        op.reach(Barrier.DRAINED, null);
        op.reach(Barrier.WRITTEN, null);
        assertEquals(List.of(new Manifest.Part("h2", "h2", "member-c7-1", "/ck/member-c7-1", 1)), op.members());
        op.reach(Barrier.SEALED, null);
        assertEquals("committed main-c1-1 as h2 of [h1, h2]", heard.poll(10, TimeUnit.SECONDS));
        op.end();
    }

    @Test
    void anExchangeWaitsForAPartThatEndedWithoutGiving() throws Exception {
        launchPart();
        SpanOperation op = main.operation("c1", false);
        op.begin("main-c1-1", 1);
        op.reach(Barrier.PREPARED, null);
        op.reach(Barrier.SUSPENDED, null);
        CompletableFuture<Map<String, byte[]>> other = CompletableFuture.supplyAsync(() -> {
            try {
                return op.exchange("pty", LifecycleEvent.DRAIN, "x", bytes("only h1"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        // h2's pty ends the event without giving once h2's drain is over (ended "*")
        op.exchange("socket", LifecycleEvent.DRAIN, "tcp", bytes("from h1"));
        assertEquals(Set.of("h1"), other.get(10, TimeUnit.SECONDS).keySet());
        op.abort("test over");
        op.end();
    }

    @Test
    void aMemberThatFailsAbortsTheMainAtTheNextBarrier() throws Exception {
        launchPart();
        failAt = "drain";
        SpanOperation op = main.operation("c1", false);
        op.begin("main-c1-1", 1);
        op.reach(Barrier.PREPARED, null);
        op.reach(Barrier.SUSPENDED, null);
        OperationFailedException e = assertThrows(OperationFailedException.class,
                () -> op.reach(Barrier.DRAINED, null));
        assertTrue(e.getMessage().contains("part h2 on host h2 failed: plugin socket failed in drain"), e.getMessage());
        assertTrue(String.valueOf(heard.poll(10, TimeUnit.SECONDS)).startsWith("aborted: "));
        op.abort(e.getMessage());
        op.end();
    }

    @Test
    void aMainThatAbortsAbortsTheMember() throws Exception {
        launchPart();
        SpanOperation op = main.operation("c1", false);
        op.begin("main-c1-1", 1);
        op.reach(Barrier.PREPARED, null);
        op.abort("plugin file failed in preCheckpoint");
        String said = String.valueOf(heard.poll(10, TimeUnit.SECONDS));
        assertTrue(said.contains("the main coordinator aborted it: plugin file failed in preCheckpoint"), said);
        op.end();
    }

    @Test
    void aLostMemberAbortsTheMainAndItsPartsAreRefusedAfter() throws Exception {
        launchPart();
        SpanOperation op = main.operation("c1", false);
        op.begin("main-c1-1", 1);
        // the member must not arrive at "suspended" before its link is gone, or the main passes that barrier
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        holdBeforeSuspended = hold;
        op.reach(Barrier.PREPARED, null);
        member.close();
        OperationFailedException e;
        try {
            e = assertThrows(OperationFailedException.class, () -> op.reach(Barrier.SUSPENDED, null));
        } finally {
            hold.countDown();
        }
        assertTrue(e.getMessage().contains("the link to host h2 was lost"), e.getMessage());
        op.abort(e.getMessage());
        op.end();
        OperationFailedException refused = assertThrows(OperationFailedException.class,
                () -> main.operation("c1", false));
        assertTrue(refused.getMessage().contains("part c7 on host h2 is unreachable"), refused.getMessage());
        assertEquals("lost", main.parts("c1").get(0).state());
    }
}
