package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket under abuse, through the real CLI and a real coordinator: a
 * thousand idle or half-sent Unix connections and a few dozen TCP ones (no token, wrong
 * token) are open while a well-behaved {@code stasis status} answers; the coordinator's
 * log stays small; a truncated EXEC is never executed; deep nesting is refused with one
 * line.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControlAbuseIT {
    private static final String NAME = "abuseit";

    @TempDir
    static Path temp;

    private static StasisCli cli;
    private static Path runtime;
    private static String address;
    private static long coordinatorPid;

    @BeforeAll
    static void start() throws Exception {
        runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        cli = new StasisCli(runtime);
        address = "127.0.0.1:" + freePort();
        StasisCli.Result started = cli.run("coordinator", "--daemon", "--name", NAME, "--ckpt-dir",
                temp.resolve("checkpoints").toString(), "--listen", address);
        assertEquals(0, started.status(), started.toString());
        coordinatorPid = Long.parseLong(started.out().replaceAll("(?s).*\\(pid (\\d+),.*", "$1"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (cli == null) {
            return;
        }
        cli.run("shutdown", "--name", NAME);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (ProcessHandle.of(coordinatorPid).map(ProcessHandle::isAlive).orElse(false)
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        ProcessHandle.of(coordinatorPid).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Test
    @Order(1)
    void statusAnswersWhileAThousandAbusiveConnectionsAreOpen() throws Exception {
        long quiet = System.nanoTime();
        assertEquals(0, cli.run("status", "--name", NAME).status());
        System.out.println("ControlAbuseIT: 'stasis status' answers in "
                + Duration.ofNanos(System.nanoTime() - quiet).toMillis() + " ms without abuse");
        List<AutoCloseable> abusive = new ArrayList<>();
        try {
            Path socket = runtime.resolve(NAME + ".sock");
            for (int i = 0; i < 1000; i++) {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                abusive.add(channel);
                channel.connect(UnixDomainSocketAddress.of(socket));
                switch (i % 4) {
                    case 0 -> send(channel, "EXEC 1000\nstasis:"); // never completes
                    case 1 -> send(channel, "PI"); // a request line that never ends
                    case 2 -> send(channel, "x".repeat(500)); // an overlong request line
                    default -> {
                        // says nothing at all
                    }
                }
            }
            String[] hostPort = address.split(":");
            for (int i = 0; i < 60; i++) {
                Socket tcp = new Socket(InetAddress.getByName(hostPort[0]), Integer.parseInt(hostPort[1]));
                abusive.add(tcp);
                if (i % 3 == 0) {
                    OutputStream out = tcp.getOutputStream();
                    out.write(("TOKEN " + "ab".repeat(32) + "\nPING\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
            long start = System.nanoTime();
            StasisCli.Result status = cli.run("status", "--name", NAME);
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            System.out.println("ControlAbuseIT: 'stasis status' answered in " + millis
                    + " ms with 1000 Unix and 60 TCP abusive connections open");
            assertEquals(0, status.status(), status.toString());
            assertTrue(millis < 10_000, millis + " ms");

            start = System.nanoTime();
            StasisCli.Result remote = cli.run("exec", "--connect", address, "--token-file",
                    runtime.resolve(NAME + ".token").toString(), "stasis:version");
            millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            System.out.println("ControlAbuseIT: a token holder over TCP answered in " + millis + " ms");
            assertEquals(0, remote.status(), remote.toString());
            assertTrue(millis < 10_000, millis + " ms");
        } finally {
            for (AutoCloseable connection : abusive) {
                connection.close();
            }
        }
        Thread.sleep(6_000); // idle connections time out; their log lines are rate-limited
        long size = Files.size(runtime.resolve(NAME + ".log"));
        System.out.println("ControlAbuseIT: coordinator log is " + size + " bytes");
        assertTrue(size < 64 * 1024, size + " bytes:\n" + Files.readString(runtime.resolve(NAME + ".log")));
        assertEquals(0, cli.run("ping", "--name", NAME).status());
    }

    @Test
    @Order(2)
    void aTruncatedExecIsNeverExecuted() throws Exception {
        String script = "stasis:shutdown";
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(runtime.resolve(NAME + ".sock")))) {
            send(channel, "EXEC " + (script.length() + 20) + "\n" + script); // says 35 bytes, sends 15
        }
        try (Socket tcp = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(address.split(":")[1]))) {
            String token = Files.readString(runtime.resolve(NAME + ".token")).strip();
            tcp.getOutputStream().write(("TOKEN " + token + "\nEXEC 99\n" + script).getBytes(StandardCharsets.US_ASCII));
            tcp.shutdownOutput();
            tcp.setSoTimeout(20_000);
            assertEquals(-1, tcp.getInputStream().read()); // closed without a reply
        }
        Thread.sleep(1_500);
        StasisCli.Result ping = cli.run("ping", "--name", NAME);
        assertEquals(0, ping.status(), "a truncated 'stasis:shutdown' was executed: " + ping);
    }

    @Test
    @Order(3)
    void deepNestingIsRefusedWithOneLine() {
        String script = "echo " + "$(echo ".repeat(200) + "x" + ")".repeat(200);
        StasisCli.Result nested = cli.run("exec", "--name", NAME, script);
        assertEquals(2, nested.status(), nested.toString());
        assertEquals(1, nested.err().lines().count(), nested.toString());
        assertTrue(nested.err().startsWith("stasis: script nests brackets 200 deep"), nested.toString());
        assertEquals(0, cli.run("ping", "--name", NAME).status());
    }

    private static void send(SocketChannel channel, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
