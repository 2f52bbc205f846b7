package org.stasis.framework.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.stasis.framework.util.Descriptors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ScmRightsTest {
    private final int[] pair = new int[2];
    private final int[] pipe = new int[2];

    @AfterEach
    void close() {
        Descriptors.closeAll(List.of(pair[0], pair[1]));
    }

    @Test
    void aLineAndTheDescriptorSentWithItArriveTogether() throws Exception {
        LibC.INSTANCE.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, pair);
        int[] other = new int[2];
        LibC.INSTANCE.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, other);
        try (UnixConnection sender = new UnixConnection(pair[0], 0, 0);
                UnixConnection receiver = new UnixConnection(pair[1], 0, 0)) {
            sender.writeLine("TAKE 7 2000000", other[0]);
            sender.writeLine("PING");

            assertEquals("TAKE 7 2000000", receiver.readLine(Duration.ofSeconds(5)));
            int received = receiver.nextDescriptor();
            assertNotEquals(-1, received);
            assertEquals("PING", receiver.readLine(Duration.ofSeconds(5)));
            assertEquals(-1, receiver.nextDescriptor());

            // The received descriptor is the same socket: what goes in comes out of its peer.
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            LibC.INSTANCE.write(received, hello, hello.length);
            byte[] back = new byte[5];
            assertEquals(5, LibC.INSTANCE.read(other[1], back, back.length));
            assertEquals("hello", new String(back, StandardCharsets.US_ASCII));
            Descriptors.closeAll(List.of(received));
        } finally {
            Descriptors.closeAll(List.of(other[0], other[1]));
        }
    }
}
