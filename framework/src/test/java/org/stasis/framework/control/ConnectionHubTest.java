package org.stasis.framework.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The bounds of the control connections, over real Unix sockets and a real Gogo shell. */
@Timeout(60)
class ConnectionHubTest {
    private static final HubLimits SMALL = new HubLimits(2, 1, 100, 20, 300, 5_000, 1_000, 8L << 20);

    @Test
    void aWellBehavedClientIsAnsweredWhileAThousandIdleConnectionsAreOpen() throws Exception {
        try (ControlFixture fixture = new ControlFixture(HubLimits.DEFAULT)) {
            fixture.exchange(ControlFixture.exec("test:mark")); // a first Gogo session warms the shell up
            List<SocketChannel> idle = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                SocketChannel channel = fixture.connect();
                if (i % 2 == 0) {
                    ControlFixture.send(channel, "EXEC 100\nhalf"); // a request that never completes
                }
                idle.add(channel);
            }
            assertEquals(0, fixture.exchange("PING\n").status());
            long start = System.nanoTime();
            ControlFixture.Reply reply = fixture.exchange(ControlFixture.exec("test:mark"));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("control: answered in " + millis + " ms with 1000 idle connections open");
            assertEquals(new ControlFixture.Reply("marked\n", "", 0), reply);
            closeAll(idle);
            assertTrue(millis < 10_000, millis + " ms");
            assertTrue(fixture.log().length() < 4_000, fixture.log());
        }
    }

    @Test
    void aTruncatedExecIsNeverRun() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL)) {
            try (SocketChannel channel = fixture.connect()) {
                ControlFixture.send(channel, "EXEC 20\ntest:mark");
            }
            try (SocketChannel channel = fixture.connect()) {
                ControlFixture.send(channel, "EXEC 20\ntest:mark");
                channel.shutdownOutput();
                assertEquals(-1, ControlFixture.read(channel).status());
            }
            Thread.sleep(500);
            assertEquals(0, fixture.commands.marks.get());
            assertEquals(0, fixture.exchange(ControlFixture.exec("test:mark")).status());
            assertEquals(1, fixture.commands.marks.get());
        }
    }

    @Test
    void aSilentClientIsDroppedAfterTheIdleTimeout() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL); SocketChannel channel = fixture.connect()) {
            ControlFixture.send(channel, "PI");
            assertEquals(-1, channel.read(ByteBuffer.allocate(16)));
            awaitLog(fixture, "no complete request within");
        }
    }

    @Test
    void aFullPoolAnswersBusyAndTheCoordinatorRecovers() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL)) {
            SocketChannel running = fixture.connect();
            ControlFixture.send(running, ControlFixture.exec("test:block"));
            assertTrue(fixture.commands.blocked.await(10, TimeUnit.SECONDS));
            SocketChannel second = fixture.connect();
            ControlFixture.send(second, ControlFixture.exec("test:block"));
            SocketChannel queued = fixture.connect();
            ControlFixture.send(queued, ControlFixture.exec("test:block"));
            Thread.sleep(300); // both reach the pool: one more worker runs, one waits in the queue
            ControlFixture.Reply busy = fixture.exchange("PING\n");
            assertEquals(new ControlFixture.Reply("", ControlServer.busyLine("test") + "\n", 1), busy);
            fixture.commands.release.countDown();
            assertEquals(0, ControlFixture.read(running).status());
            assertEquals(0, ControlFixture.read(second).status());
            assertEquals(0, ControlFixture.read(queued).status());
            assertEquals(0, fixture.exchange("PING\n").status());
        }
    }

    @Test
    void aCrowdedSourceLosesItsOldestWaitingConnection() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL)) {
            SocketChannel oldest = fixture.connect();
            for (int i = 0; i < 25; i++) {
                fixture.connect();
            }
            assertEquals(new ControlFixture.Reply("", ControlServer.busyLine("test") + "\n", 1),
                    ControlFixture.read(oldest));
            assertEquals(0, fixture.exchange("PING\n").status());
            assertTrue(fixture.hub.pendingCount() <= SMALL.perSource(), "" + fixture.hub.pendingCount());
        }
    }

    @Test
    void aClientThatLeavesCancelsTheRestOfItsScript() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL)) {
            try (SocketChannel channel = fixture.connect()) {
                ControlFixture.send(channel, ControlFixture.exec("test:block\ntest:mark"));
                assertTrue(fixture.commands.blocked.await(10, TimeUnit.SECONDS));
            }
            Thread.sleep(300);
            fixture.commands.release.countDown();
            Thread.sleep(500);
            assertEquals(0, fixture.commands.marks.get());
            // The same script from a client that stays runs to its end.
            assertEquals(new ControlFixture.Reply("released\nmarked\n", "", 0),
                    fixture.exchange(ControlFixture.exec("test:block\ntest:mark")));
        }
    }

    @Test
    void deepNestingIsRefusedWithOneLine() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL)) {
            String script = "echo " + "$(".repeat(ScriptLimits.MAX_NESTING + 1) + "x"
                    + ")".repeat(ScriptLimits.MAX_NESTING + 1);
            ControlFixture.Reply reply = fixture.exchange(ControlFixture.exec(script));
            assertEquals(CommandRunner.USAGE, reply.status());
            assertEquals(1, reply.err().lines().count(), reply.err());
            assertTrue(reply.err().startsWith("stasis: script nests brackets 33 deep"), reply.err());
        }
    }

    @Test
    void aStackOverflowIsOneErrorLineAndTheConnectionStaysCorrect() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL)) {
            ControlFixture.Reply reply = fixture.exchange(ControlFixture.exec("test:recurse 0\ntest:mark"));
            assertEquals(CommandRunner.FAILED, reply.status());
            assertEquals("stasis: the command nests too deeply for the coordinator's stack; simplify it\n", reply.err());
            assertEquals(0, fixture.commands.marks.get());
            assertEquals(0, fixture.exchange("PING\n").status());
        }
    }

    @Test
    void aShellThatSendsNothingIsClosedAfterItsIdleTime() throws Exception {
        try (ControlFixture fixture = new ControlFixture(SMALL); SocketChannel channel = fixture.connect()) {
            ControlFixture.send(channel, "SHELL\ntest:mark\n");
            byte[] all = java.nio.channels.Channels.newInputStream(channel).readAllBytes();
            String text = new String(all, java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(text.startsWith("test shell") && text.contains("marked"), text);
            assertEquals(1, fixture.commands.marks.get());
        }
    }

    private static void awaitLog(ControlFixture fixture, String text) throws InterruptedException {
        for (int i = 0; i < 100 && !fixture.log().contains(text); i++) {
            Thread.sleep(50);
        }
        assertTrue(fixture.log().contains(text), fixture.log());
    }

    static void closeAll(List<SocketChannel> channels) throws IOException {
        for (SocketChannel channel : channels) {
            channel.close();
        }
    }
}
