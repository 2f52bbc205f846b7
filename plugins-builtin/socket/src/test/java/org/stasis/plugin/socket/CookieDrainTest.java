package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import org.junit.jupiter.api.Test;

class CookieDrainTest {
    @Test
    void emptiesBothDirectionsOfATcpConnectionAndTheRefillPutsItBack() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = kit.tcpConnect(listener, Net.AF_INET);
            // More than the receiver's window: part of it still sits in the sender's queue.
            byte[] up = Kit.random(3 << 20, 1);
            byte[] down = Kit.numbered("line", 100);
            kit.write(c[0], up);
            kit.write(c[1], down);
            CookieDrain drain = new CookieDrain(kit.s, new Random(7), Duration.ofSeconds(10));

            ByteArrayOutputStream toServer = new ByteArrayOutputStream();
            drain.drain(c[0], c[1], toServer, "up");
            ByteArrayOutputStream toClient = new ByteArrayOutputStream();
            drain.drain(c[1], c[0], toClient, "down");

            assertArrayEquals(up, toServer.toByteArray());
            assertArrayEquals(down, toClient.toByteArray());
            assertTrue(kit.nothingWaiting(c[0]) && kit.nothingWaiting(c[1]), "the cookies were taken too");
            assertEquals(0, kit.s.outQueue(c[0]));

            Filler filler = new Filler(kit.s, Duration.ofSeconds(2), Limits.read(Path.of("/proc/sys/net/core")));
            assertEquals(0, filler.stream(c[0], toServer.toByteArray(), c[1]));
            assertEquals(0, filler.stream(c[1], toClient.toByteArray(), c[0]));
            kit.write(c[0], "after".getBytes());

            assertArrayEquals(down, kit.read(c[0], down.length));
            assertArrayEquals(up, kit.read(c[1], up.length));
            assertArrayEquals("after".getBytes(), kit.read(c[1], 5));
        }
    }

    @Test
    void anIdleIpv6ConnectionDrainsToNothing() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET6);
            int[] c = kit.tcpConnect(listener, Net.AF_INET6);
            ByteArrayOutputStream data = new ByteArrayOutputStream();

            new CookieDrain(kit.s, new Random(1), Duration.ofSeconds(5)).drain(c[0], c[1], data, "idle");

            assertEquals(0, data.size());
            assertTrue(kit.nothingWaiting(c[1]));
        }
    }

    @Test
    void failsWithAClearMessageWhenTheConnectionIsGone() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = kit.tcpConnect(listener, Net.AF_INET);
            kit.write(c[0], "last words".getBytes());
            kit.s.shutdown(c[0], Net.SHUT_WR);
            ByteArrayOutputStream data = new ByteArrayOutputStream();

            IOException e = assertThrows(IOException.class, () -> new CookieDrain(kit.s, new Random(1),
                    Duration.ofSeconds(2)).drain(c[0], c[1], data, "half-closed"));

            assertTrue(e.getMessage().startsWith("half-closed: the drain cookie cannot be sent"), e.getMessage());
            assertArrayEquals("last words".getBytes(), data.toByteArray(), "what was taken is handed back");
        }
    }
}
