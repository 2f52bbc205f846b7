package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;

class UnixDiagTest {
    @Test
    void findsThePeerOfEachEndOfASocketPair() throws Exception {
        try (Kit kit = new Kit()) {
            int[] pair = kit.unixPair(Net.SOCK_STREAM);
            long a = Kit.inode(pair[0]);
            long b = Kit.inode(pair[1]);

            Map<Long, UnixDiag.Entry> all = new UnixDiag(kit.s).dump();

            assertEquals(b, all.get(a).peer());
            assertEquals(a, all.get(b).peer());
            assertEquals(Net.SOCK_STREAM, all.get(a).type());
            assertEquals(Net.TCP_ESTABLISHED, all.get(a).state());
        }
    }

    @Test
    void seesAListenersBacklogAndTheClientsItHasNotAccepted() throws Exception {
        try (Kit kit = new Kit()) {
            byte[] name = ("stasis-test-" + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
            int listener = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.bind(listener, Address.unixAbstract(name));
            kit.s.listen(listener, 9);
            int client = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.connect(client, Address.unixAbstract(name));
            kit.s.shutdown(client, Net.SHUT_WR);

            Map<Long, UnixDiag.Entry> all = new UnixDiag(kit.s).dump();

            UnixDiag.Entry l = all.get(Kit.inode(listener));
            assertEquals(Net.TCP_LISTEN, l.state());
            assertEquals(9, l.backlog());
            assertArrayEquals(new long[] {Kit.inode(client)}, l.waiting());
            assertEquals(Net.SEND_SHUTDOWN, all.get(Kit.inode(client)).shutdown() & Net.SEND_SHUTDOWN);
        }
    }
}
