package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DescriberTest {
    private static final Path SYSCTL = Path.of("/proc/sys/net/core");

    @TempDir
    Path temp;

    @Test
    void aTcpListenerWithTheOptionsAServerSets() throws Exception {
        try (Kit kit = new Kit()) {
            int fd = kit.socket(Net.AF_INET6, Net.SOCK_STREAM);
            SocketOption.REUSEADDR.write(kit.s, fd, new long[] {1});
            SocketOption.V6ONLY.write(kit.s, fd, new long[] {1});
            kit.s.bind(fd, Address.loopback(Net.AF_INET6, 0));
            kit.s.listen(fd, 17);
            SocketOption.NODELAY.write(kit.s, fd, new long[] {1});
            SocketOption.KEEPALIVE.write(kit.s, fd, new long[] {1});
            SocketOption.KEEPIDLE.write(kit.s, fd, new long[] {33});
            SocketOption.RCVBUF.write(kit.s, fd, new long[] {2 * 50000});
            SocketOption.LINGER.write(kit.s, fd, new long[] {1, 3});

            SocketDescription d = new Describer(kit.s, SYSCTL).describe(Kit.inode(fd), fd, i -> Optional.empty(), null);

            assertEquals(Net.AF_INET6, d.family());
            assertTrue(d.isTcp());
            assertTrue(d.listening());
            assertEquals(17, d.backlog());
            assertEquals(kit.s.localAddress(fd), d.local());
            assertEquals(Address.NONE, d.peer());
            Map<SocketOption, long[]> o = d.options();
            assertArrayEquals(new long[] {1}, o.get(SocketOption.REUSEADDR));
            assertArrayEquals(new long[] {1}, o.get(SocketOption.V6ONLY));
            assertArrayEquals(new long[] {1}, o.get(SocketOption.NODELAY));
            assertArrayEquals(new long[] {1}, o.get(SocketOption.KEEPALIVE));
            assertArrayEquals(new long[] {33}, o.get(SocketOption.KEEPIDLE));
            assertArrayEquals(new long[] {2 * 50000}, o.get(SocketOption.RCVBUF), "the kernel doubles what is asked");
            assertArrayEquals(new long[] {1, 3}, o.get(SocketOption.LINGER));
            assertFalse(o.containsKey(SocketOption.SNDBUF), "an untouched option is not saved");
            assertFalse(o.containsKey(SocketOption.KEEPCNT));
        }
    }

    @Test
    void aConnectedTcpSocketThatShutItsWriteSide() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] c = kit.tcpConnect(listener, Net.AF_INET);
            kit.s.shutdown(c[0], Net.SHUT_WR);
            Thread.sleep(50);
            Describer describer = new Describer(kit.s, SYSCTL);

            SocketDescription client = describer.describe(Kit.inode(c[0]), c[0], i -> Optional.empty(), null);
            SocketDescription server = describer.describe(Kit.inode(c[1]), c[1], i -> Optional.empty(), null);

            assertEquals(Net.TCP_FIN_WAIT2, client.state());
            assertEquals(Net.SEND_SHUTDOWN, client.shutdown() & Net.SEND_SHUTDOWN);
            assertEquals(Net.TCP_CLOSE_WAIT, server.state());
            assertEquals(Net.RCV_SHUTDOWN, server.shutdown());
            assertEquals(client.local(), server.peer());
            assertEquals(client.peer(), server.local());
            assertFalse(client.listening());
            assertTrue(client.connected());
        }
    }

    @Test
    void aRelativeUnixPathBecomesAbsolute() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        Path relative = cwd.relativize(temp.resolve("rx.sock"));
        try (Kit kit = new Kit()) {
            int fd = kit.socket(Net.AF_UNIX, Net.SOCK_DGRAM);
            kit.s.bind(fd, Address.unixPath(relative.toString()));
            assertEquals(relative.toString(), kit.s.localAddress(fd).path(), "the kernel reports the name as given");
            Map<Long, UnixDiag.Entry> all = new UnixDiag(kit.s).dump();

            SocketDescription d = new Describer(kit.s, SYSCTL).describe(Kit.inode(fd), fd,
                    i -> Optional.ofNullable(all.get(i)), cwd);

            assertEquals(temp.resolve("rx.sock").toString(), d.local().path());
            assertEquals(Net.SOCK_DGRAM, d.type());
            assertFalse(d.connected());
        }
    }
}
