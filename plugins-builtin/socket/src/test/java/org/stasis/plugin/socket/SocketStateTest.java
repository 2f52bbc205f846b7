package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Names and lingering state on real kernel objects: TIME_WAIT ports, Unix socket directories, SHUT_RD. */
class SocketStateTest {
    private static final Path SYSCTL = Path.of("/proc/sys/net/core");

    @TempDir
    Path temp;

    private static SocketDescription describe(Kit kit, int fd) throws Exception {
        Map<Long, UnixDiag.Entry> all = new UnixDiag(kit.s).dump();
        return new Describer(kit.s, SYSCTL).describe(Kit.inode(fd), fd, i -> Optional.ofNullable(all.get(i)), null);
    }

    private static Binder binder(Kit kit, List<String> log) {
        return new Binder(kit.s, log::add, p -> p, new Lingering(kit.s, Path.of("/proc/net")), i -> null);
    }

    @Test
    void aListenerPortHeldByTimeWaitWithoutAddressReuseIsBoundAgain() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            SocketDescription description = describe(kit, listener);
            int[] ends = kit.tcpConnect(listener, Net.AF_INET);
            kit.close(ends[1]); // the server side closes first: it lingers in TIME_WAIT on the listener's port
            Thread.sleep(20);
            kit.close(ends[0]);
            kit.close(listener);
            Thread.sleep(20);
            Lingering lingering = new Lingering(kit.s, Path.of("/proc/net"));
            assertTrue(lingering.on(description.local()).stream().anyMatch(c -> c.state() == Net.TCP_TIME_WAIT),
                    "a connection in TIME_WAIT holds the port");
            int plain = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.setIntOption(plain, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
            SyscallException refused = assertThrows(SyscallException.class, () -> kit.s.bind(plain, description.local()));
            assertEquals(Net.EADDRINUSE, refused.errno(), "address reuse alone is not enough");

            int again = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            List<String> log = new ArrayList<>();
            binder(kit, log).bindIp(again, description, description.local(), true);
            assertEquals(description.local(), kit.s.localAddress(again));
            assertEquals(0, kit.s.intOption(again, Net.SOL_SOCKET, Net.SO_REUSEADDR), "the program's SO_REUSEADDR");
            assertEquals(List.of(), log);
        }
    }

    @Test
    void anIpv6OnlyListenerOfTheRestartOnTheSamePortDoesNotStopTheIpv4OneFromEndingTimeWait() throws Exception {
        // Open MPI: one rank listens on 0.0.0.0:P, another on [::]:P with IPV6_V6ONLY; after a kill the
        // IPv4 port lingers in TIME_WAIT and the IPv6 listener is recreated first.
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            SocketDescription description = describe(kit, listener);
            int[] ends = kit.tcpConnect(listener, Net.AF_INET);
            kit.close(ends[1]);
            Thread.sleep(20);
            kit.close(ends[0]);
            kit.close(listener);
            Thread.sleep(20);
            Address v6any = Address.inet(Net.AF_INET6, new byte[16], description.local().port());
            SocketDescription v6 = new SocketDescription(1, Net.AF_INET6, Net.SOCK_STREAM, Net.IPPROTO_TCP,
                    Net.TCP_LISTEN, 0, 16, v6any, Address.NONE, 0, new long[0],
                    Map.of(SocketOption.V6ONLY, new long[] {1}));
            Binder binder = binder(kit, new ArrayList<>());
            int six = kit.socket(Net.AF_INET6, Net.SOCK_STREAM);
            SocketOption.V6ONLY.write(kit.s, six, new long[] {1});
            binder.bindIp(six, v6, v6any, true);
            kit.s.listen(six, 16);

            int again = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            binder.bindIp(again, description, description.local(), true);
            assertEquals(description.local(), kit.s.localAddress(again));
        }
    }

    @Test
    void aListenerPortAnotherProgramListensOnIsNotTaken() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            SocketDescription description = describe(kit, listener);
            int again = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            Exception e = assertThrows(Exception.class,
                    () -> binder(kit, new ArrayList<>()).bindIp(again, description, description.local(), true));
            assertTrue(e.getMessage().contains("another program uses it"), e.getMessage());
        }
    }

    @Test
    void inASpanRestartAListenerWhosePortIsTakenOrAddressAbsentListensElsewhereAndSaysSo() throws Exception {
        // MPI ranks of two hosts restarted on one: each host had a rank listening on the same port
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            SocketDescription description = describe(kit, listener);
            List<String> log = new ArrayList<>();
            Binder moving = new Binder(kit.s, log::add, p -> p, new Lingering(kit.s, Path.of("/proc/net")), i -> null,
                    true);
            int again = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            moving.bindIp(again, description, description.local(), true);
            Address now = kit.s.localAddress(again);
            assertNotEquals(description.local().port(), now.port());
            assertEquals(1, log.size());
            assertTrue(log.get(0).contains("in use") && log.get(0).contains(":" + now.port()), log.get(0));

            // an address of the other host (TEST-NET-2: on no interface here)
            Address absent = Address.inet(Net.AF_INET, new byte[] {(byte) 198, 51, 100, 7}, 0);
            int gone = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            moving.bindIp(gone, description, absent.withPort(description.local().port() + 1), true);
            assertTrue(kit.s.localAddress(gone).isWildcard(), "on every address of this host");
            assertTrue(log.get(1).contains("not on this host"), log.get(1));
        }
    }

    @Test
    void aListenerWhosePortAnotherPartTookBetweenBindAndListenMovesInASpanRestartAndIsAnErrorElse()
            throws Exception {
        // Two parts restarted on one host, each with a listener on the port its host had: with
        // SO_REUSEADDR both bind while neither listens, and the second to listen finds it taken.
        try (Kit kit = new Kit()) {
            int first = kit.tcpListener(Net.AF_INET);
            kit.s.setIntOption(first, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);        // as ZeroMQ's listeners
            SocketDescription description = describe(kit, first);
            kit.close(first);
            int other = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            kit.s.setIntOption(other, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
            kit.s.bind(other, description.local());

            List<String> log = new ArrayList<>();
            Binder moving = new Binder(kit.s, log::add, p -> p, new Lingering(kit.s, Path.of("/proc/net")), i -> null,
                    true);
            int ours = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            moving.bindIp(ours, description, description.local(), true);
            int stays = kit.socket(Net.AF_INET, Net.SOCK_STREAM);
            binder(kit, new ArrayList<>()).bindIp(stays, description, description.local(), true);
            kit.s.listen(other, 4);

            kit.forget(ours);
            int listening = moving.listenIp(ours, description, 4, () -> kit.socket(Net.AF_INET, Net.SOCK_STREAM));
            assertNotEquals(ours, listening);
            Address now = kit.s.localAddress(listening);
            assertNotEquals(description.local().port(), now.port());
            kit.s.connect(kit.socket(Net.AF_INET, Net.SOCK_STREAM), now);           // it listens
            assertEquals(1, log.size());
            assertTrue(log.get(0).contains("in use") && log.get(0).contains(":" + now.port()), log.get(0));

            Exception e = assertThrows(Exception.class, () -> binder(kit, new ArrayList<>()).listenIp(stays,
                    description, 4, () -> kit.socket(Net.AF_INET, Net.SOCK_STREAM)));
            assertTrue(e.getMessage().contains("cannot listen on " + description.local())
                    && e.getMessage().contains("another program uses it"), e.getMessage());
        }
    }

    @Test
    void procNetTcpLinesAreRead() {
        Lingering.Connection c = Lingering.parse(
                "   3: 0100007F:1F90 0100007F:C350 06 00000000:00000000 03:00000F9C 00000000     0        0 0 3");
        assertEquals(Address.inet(Net.AF_INET, new byte[] {127, 0, 0, 1}, 8080), c.local());
        assertEquals(50000, c.remote().port());
        assertEquals(Net.TCP_TIME_WAIT, c.state());
        Lingering.Connection six = Lingering.parse("   0: 00000000000000000000000001000000:0050 "
                + "00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1 1");
        assertEquals(Address.loopback(Net.AF_INET6, 80), six.local());
        assertEquals(Net.TCP_LISTEN, six.state());
        assertEquals(null, Lingering.parse("  sl  local_address rem_address   st tx_queue rx_queue"));
    }

    @Test
    void aUnixSocketsDirectoriesComeBackWithTheirModesAndItsFileWithItsMode() throws Exception {
        Path a = temp.resolve("a");
        Path b = a.resolve("b");
        Files.createDirectories(b);
        Files.setPosixFilePermissions(b, PosixFilePermissions.fromString("rwx--x---"));
        Files.setPosixFilePermissions(a, PosixFilePermissions.fromString("rwxr-x---"));
        Path socketPath = b.resolve("s.sock");
        try (Kit kit = new Kit()) {
            int listener = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.bind(listener, Address.unixPath(socketPath.toString()));
            kit.s.listen(listener, 4);
            Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-------"));
            SocketDescription description = describe(kit, listener);
            UnixPlace place = UnixPlace.capture(socketPath);
            assertEquals(0600, place.fileMode());
            assertEquals(List.of(0710, 0750), place.directoryModes().subList(0, 2));
            assertEquals(place, UnixPlace.decode(place.encode()));
            kit.close(listener);
            Files.delete(socketPath);
            Files.delete(b);
            Files.delete(a);

            int again = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            List<String> log = new ArrayList<>();
            new Binder(kit.s, log::add, p -> p, new Lingering(kit.s, Path.of("/proc/net")), i -> place)
                    .bindUnix(again, description, description.local());
            assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
            assertEquals("rwx--x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(b)));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socketPath)));
            assertEquals(description.local(), kit.s.localAddress(again));
            assertEquals(2, log.size(), "each recreated directory is reported: " + log);
        }
    }

    @Test
    void aRegularFileInTheWayOfAUnixSocketIsNeverRemoved() throws Exception {
        Path path = temp.resolve("s.sock");
        try (Kit kit = new Kit()) {
            int listener = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            kit.s.bind(listener, Address.unixPath(path.toString()));
            SocketDescription description = describe(kit, listener);
            kit.close(listener);
            Files.delete(path);
            Files.writeString(path, "precious");
            int again = kit.socket(Net.AF_UNIX, Net.SOCK_STREAM);
            assertThrows(Exception.class, () -> binder(kit, new ArrayList<>()).bindUnix(again, description,
                    description.local()));
            assertEquals("precious", Files.readString(path));
        }
    }

    @Test
    void aTcpReaderThatShutItsReadingSideIsSeenSoWithItsDataStillQueued() throws Exception {
        try (Kit kit = new Kit()) {
            int listener = kit.tcpListener(Net.AF_INET);
            int[] ends = kit.tcpConnect(listener, Net.AF_INET);
            byte[] data = Kit.random(5000, 9);
            kit.write(ends[0], data);
            Thread.sleep(20);
            assertEquals(0, describe(kit, ends[1]).shutdown() & Net.RCV_SHUTDOWN, "an open reader");
            kit.s.shutdown(ends[1], Net.SHUT_RD);
            SocketDescription reader = describe(kit, ends[1]);
            assertEquals(Net.RCV_SHUTDOWN, reader.shutdown() & Net.RCV_SHUTDOWN);
            assertEquals(0, describe(kit, ends[0]).shutdown(), "the writer is not shut");
            assertEquals(-1, kit.s.intOption(ends[1], Net.SOL_SOCKET, Net.SO_PEEK_OFF), "peek offset put back");
            assertArrayEquals(data, kit.read(ends[1], data.length), "nothing was taken");
            assertNotEquals(Sockets.WOULD_BLOCK, kit.s.receive(ends[1], new byte[1], 0, null, null));
        }
    }
}
