package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeekerTest {
    private static final Path SYSCTL = Path.of("/proc/sys/net/core");

    @TempDir
    Path temp;

    private static SocketDescription describe(Kit kit, int fd) throws Exception {
        Map<Long, UnixDiag.Entry> all = new UnixDiag(kit.s).dump();
        return new Describer(kit.s, SYSCTL).describe(Kit.inode(fd), fd, i -> Optional.ofNullable(all.get(i)), null);
    }

    @Test
    void unixDatagramsAreSeenWithTheirBoundariesAndSendersAndStayQueued() throws Exception {
        try (Kit kit = new Kit()) {
            int receiver = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            Address rx = Address.unixPath(temp.resolve("rx").toString());
            kit.s.bind(receiver, rx);
            int named = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            kit.s.bind(named, Address.unixPath(temp.resolve("tx").toString()));
            int unnamed = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            kit.s.send(named, "first".getBytes(), 0, 5, rx);
            kit.s.send(unnamed, new byte[0], 0, 0, rx);
            kit.s.send(named, Kit.random(100_000, 3), 0, 100_000, rx);

            Queued q = new Peeker(kit.s).peek(receiver, describe(kit, receiver));

            assertEquals(3, q.messages().size());
            List<Queued.Message> m = q.messages();
            assertArrayEquals("first".getBytes(), m.get(0).data());
            assertEquals(temp.resolve("tx").toString(), m.get(0).from().path());
            assertEquals(0, m.get(1).data().length);
            assertTrue(m.get(1).from().isUnnamed());
            assertArrayEquals(Kit.random(100_000, 3), m.get(2).data(), "a message longer than the first buffer");
            assertArrayEquals("first".getBytes(), kit.message(receiver), "peeking took nothing");
            assertEquals(-1, kit.s.intOption(receiver, Net.SOL_SOCKET, Net.SO_PEEK_OFF), "peek offset put back");
        }
    }

    @Test
    void aUnixStreamIsSeenUpToItsEnd() throws Exception {
        try (Kit kit = new Kit()) {
            int[] pair = kit.unixPair(Net.SOCK_STREAM);
            byte[] data = Kit.random(150_000, 5);
            kit.write(pair[0], data);
            kit.s.shutdown(pair[0], Net.SHUT_WR);

            Queued q = new Peeker(kit.s).peek(pair[1], describe(kit, pair[1]));

            assertTrue(q.stream());
            assertArrayEquals(data, q.bytes());
            assertArrayEquals(data, kit.read(pair[1], data.length));
        }
    }

    @Test
    void udpDatagramsKeepTheirSenders() throws Exception {
        try (Kit kit = new Kit()) {
            int receiver = kit.socket(Net.AF_INET6, Net.SOCK_DGRAM);
            kit.s.bind(receiver, Address.loopback(Net.AF_INET6, 0));
            int sender = kit.socket(Net.AF_INET6, Net.SOCK_DGRAM);
            kit.s.bind(sender, Address.loopback(Net.AF_INET6, 0));
            Address to = kit.s.localAddress(receiver);
            for (int i = 0; i < 5; i++) {
                byte[] b = ("dgram " + i).getBytes();
                kit.s.send(sender, b, 0, b.length, to);
            }
            Thread.sleep(20);

            Queued q = new Peeker(kit.s).peek(receiver, describe(kit, receiver));

            assertEquals(5, q.messages().size());
            assertArrayEquals("dgram 4".getBytes(), q.messages().get(4).data());
            assertEquals(kit.s.localAddress(sender).key(), q.messages().get(0).from().key());
            assertArrayEquals("dgram 0".getBytes(), kit.message(receiver));
        }
    }

    @Test
    void aTcpQueueIsSeenWhole() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = kit.tcpConnect(listener, Net.AF_INET);
            byte[] data = Kit.numbered("peek", 2000);
            kit.write(c[1], data);
            Thread.sleep(50);

            Queued q = new Peeker(kit.s).peek(c[0], describe(kit, c[0]));

            assertArrayEquals(data, q.bytes());
            assertArrayEquals(data, kit.read(c[0], data.length));
        }
    }
}
