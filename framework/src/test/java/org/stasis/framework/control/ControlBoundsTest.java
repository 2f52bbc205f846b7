package org.stasis.framework.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.stasis.framework.dispatch.Diagnostics;

/** Log rate limits, script limits, the token gate, and TCP connections through the hub. */
@Timeout(60)
class ControlBoundsTest {
    @Test
    void aFloodOfLinesOfOneKindCostsAFewLines() {
        AtomicLong now = new AtomicLong(1_000);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RateLimitedLog log = new RateLimitedLog(new PrintStream(bytes, true, StandardCharsets.UTF_8), 10_000, 3,
                now::get);
        for (int i = 0; i < 100_000; i++) {
            log.log("token", "refused " + i);
        }
        log.log("other", "another kind");
        now.addAndGet(10_000);
        log.log("token", "later");
        assertEquals("refused 0\nrefused 1\nrefused 2\nanother kind\nlater (99997 similar lines left out before this one)\n",
                bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void nestingIsCountedOutsideSingleQuotesOnly() {
        assertEquals(4, ScriptLimits.nesting("echo $(a $({ b [c] }))"));
        assertEquals(1, ScriptLimits.nesting("echo '((((((((' $(x)"));
        assertEquals(2, ScriptLimits.nesting("echo \"$($(x))\""));
        assertNull(ScriptLimits.refusal("(".repeat(ScriptLimits.MAX_NESTING)));
        assertTrue(ScriptLimits.refusal("{".repeat(ScriptLimits.MAX_NESTING + 1)).startsWith("script nests brackets"));
        assertTrue(ScriptLimits.refusal(Collections.nCopies(ScriptLimits.MAX_STATEMENTS + 1, "x"))
                .startsWith("script has 10001 statements"));
    }

    @Test
    void wrongTokensSlowDownTheirSourceOnly() throws IOException {
        Path directory = Files.createTempDirectory("stasis-token-test");
        Path file = directory.resolve("t.token");
        try {
            TokenFile token = TokenFile.loadOrCreate(file, Files.getOwner(directory));
            TokenGate gate = new TokenGate(token);
            String right = "TOKEN " + Files.readString(file).strip();
            assertEquals(100, gate.notBefore("10.0.0.1", 100));
            assertEquals(TokenGate.Verdict.WRONG, gate.check("10.0.0.1", "TOKEN abcd", 100));
            assertEquals(100 + TokenGate.FIRST_DELAY_MS, gate.notBefore("10.0.0.1", 100));
            assertEquals(TokenGate.Verdict.MISSING, gate.check("10.0.0.1", "PING", 400));
            assertEquals(400 + 2 * TokenGate.FIRST_DELAY_MS, gate.notBefore("10.0.0.1", 400));
            for (int i = 0; i < 20; i++) {
                gate.check("10.0.0.1", "TOKEN x", 500);
            }
            assertEquals(500 + TokenGate.MAX_DELAY_MS, gate.notBefore("10.0.0.1", 500));
            assertEquals(500, gate.notBefore("10.0.0.2", 500));
            assertEquals(TokenGate.Verdict.ADMITTED, gate.check("10.0.0.2", right, 500));
            assertEquals(200_000, gate.notBefore("10.0.0.1", 200_000)); // forgotten after a quiet minute
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(directory);
        }
    }

    @Test
    void tcpClientsWithTheTokenGetInWhileGuessersAreRefusedAndSlowed() throws Exception {
        Path directory = Files.createTempDirectory("stasis-token-test");
        Path file = directory.resolve("t.token");
        TokenFile token = TokenFile.loadOrCreate(file, Files.getOwner(directory));
        String right = "TOKEN " + Files.readString(file).strip() + "\n";
        ServerSocketChannel tcp = TcpControlListener.bind(new ListenAddress("127.0.0.1", 0), token, Diagnostics.discarding());
        int port = ((java.net.InetSocketAddress) tcp.getLocalAddress()).getPort();
        HubLimits limits = new HubLimits(4, 4, 100, 20, 2_000, 5_000, 1_000, 8L << 20);
        try (ControlFixture fixture = new ControlFixture(limits, new TokenGate(token), tcp)) {
            Socket[] idle = new Socket[40];
            try {
                for (int i = 0; i < idle.length; i++) {
                    idle[i] = new Socket(InetAddress.getLoopbackAddress(), port); // more than 32 idle, token-less
                    if (i % 2 == 0) { // and guessers, whose refusals are held back
                        idle[i].getOutputStream().write(("TOKEN " + "cd".repeat(32) + "\n").getBytes(StandardCharsets.US_ASCII));
                    }
                }
                assertEquals("", exchange(port, "TOKEN " + "ab".repeat(32) + "\nPING\n"));
                long start = System.nanoTime();
                assertEquals(0, ControlFixture.parse(new java.io.ByteArrayInputStream(
                        exchange(port, right + "PING\n").getBytes(StandardCharsets.UTF_8))).status());
                long millis = (System.nanoTime() - start) / 1_000_000;
                System.out.println("control: TCP answered in " + millis
                        + " ms after wrong tokens, with 40 idle or guessing TCP connections open");
                assertTrue(millis < 10_000, millis + " ms");
            } finally {
                for (Socket socket : idle) {
                    if (socket != null) {
                        socket.close();
                    }
                }
            }
            assertTrue(fixture.log().contains("refused a TCP control connection from /127.0.0.1: wrong token"),
                    fixture.log());
            assertFalse(fixture.log().contains("missing token"), fixture.log());
            assertTrue(fixture.log().lines().count() < 20, fixture.log());
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(directory);
        }
    }

    private static String exchange(int port, String text) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(20_000);
            socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.net.SocketException e) {
                return "";
            }
        }
    }
}
