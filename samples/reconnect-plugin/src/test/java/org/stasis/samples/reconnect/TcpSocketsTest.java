package org.stasis.samples.reconnect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Real sockets: the JNA calls against the kernel, not a model of it. */
class TcpSocketsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private final TcpSockets sockets = new TcpSockets();

    @Test
    void aConnectionShowsItsPeerAndOptions() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Endpoint service = new Endpoint(server.getInetAddress(), server.getLocalPort());
            int fd = sockets.connect(new TcpConnection(LibC.AF_INET, service, true, false), TIMEOUT);
            try (Socket accepted = server.accept()) {
                Optional<TcpConnection> seen = sockets.describe(fd);
                assertEquals(Optional.of(new TcpConnection(LibC.AF_INET, service, true, false)), seen);
                byte[] hello = "hello\n".getBytes(StandardCharsets.US_ASCII);
                assertEquals(hello.length, RawFds.C.write(fd, hello, hello.length));
                byte[] got = accepted.getInputStream().readNBytes(hello.length);
                assertEquals("hello\n", new String(got, StandardCharsets.US_ASCII));
            } finally {
                RawFds.C.close(fd);
            }
        }
    }

    @Test
    void anIpv4ServiceThroughAnIpv6Socket() throws IOException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            Endpoint service = new Endpoint(server.getInetAddress(), server.getLocalPort());
            int fd = sockets.connect(new TcpConnection(LibC.AF_INET6, service, false, true), TIMEOUT);
            try (Socket accepted = server.accept()) {
                assertEquals(Optional.of(new TcpConnection(LibC.AF_INET6, service, false, true)), sockets.describe(fd));
            } finally {
                RawFds.C.close(fd);
            }
        }
    }

    @Test
    void ipv6Loopback() throws IOException {
        ServerSocket server;
        try {
            server = new ServerSocket(0, 1, InetAddress.getByName("::1"));
        } catch (IOException e) {
            Assumptions.abort("no IPv6 loopback here: " + e.getMessage());
            return;
        }
        try (server) {
            Endpoint service = Endpoint.parse("[::1]:" + server.getLocalPort());
            int fd = sockets.connect(new TcpConnection(LibC.AF_INET6, service, false, false), TIMEOUT);
            try (Socket accepted = server.accept()) {
                assertEquals(service, sockets.describe(fd).orElseThrow().peer());
            } finally {
                RawFds.C.close(fd);
            }
        }
    }

    @Test
    void aServiceThatIsDownIsAnErrorAndLeavesNothingOpen() throws IOException {
        int port;
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = server.getLocalPort();
        }
        long before = RawFds.openSockets();
        IOException refused = assertThrows(IOException.class, () -> sockets.connect(
                new TcpConnection(LibC.AF_INET, Endpoint.parse("127.0.0.1:" + port), false, false), TIMEOUT));
        assertTrue(refused.getMessage().contains("refused"), refused.getMessage());
        assertEquals(before, RawFds.openSockets());
    }

    @Test
    void aServiceThatDoesNotAnswerCostsTheTimeoutOnly() throws IOException {
        // A listener that never accepts: once its queue is full, the kernel drops further SYNs.
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            TcpConnection connection = new TcpConnection(LibC.AF_INET, new Endpoint(server.getInetAddress(),
                    server.getLocalPort()), false, false);
            java.util.List<Integer> queued = new java.util.ArrayList<>();
            try {
                IOException silence = null;
                for (int i = 0; i < 10 && silence == null; i++) {
                    long before = RawFds.openSockets();
                    try {
                        queued.add(sockets.connect(connection, Duration.ofMillis(300)));
                    } catch (IOException e) {
                        silence = e;
                        assertEquals(before, RawFds.openSockets());
                    }
                }
                assertTrue(silence != null && silence.getMessage().contains("no answer within 300 ms"),
                        String.valueOf(silence));
            } finally {
                queued.forEach(RawFds.C::close);
            }
        }
    }

    @Test
    void otherSocketsAreNotConnections() throws IOException {
        int udp = RawFds.C.socket(LibC.AF_INET, 2 /* SOCK_DGRAM */, 0);
        int unconnected = RawFds.C.socket(LibC.AF_INET, LibC.SOCK_STREAM, 0);
        int unix = RawFds.C.socket(1 /* AF_UNIX */, LibC.SOCK_STREAM, 0);
        try {
            assertFalse(sockets.describe(udp).isPresent());
            assertFalse(sockets.describe(unconnected).isPresent());
            assertFalse(sockets.describe(unix).isPresent());
        } finally {
            RawFds.C.close(udp);
            RawFds.C.close(unconnected);
            RawFds.C.close(unix);
        }
    }
}
