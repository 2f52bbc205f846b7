package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class TopologyTest {
    private static final Address ANY = Address.inet(Net.AF_INET, new byte[4], 8000);

    private static SocketDescription tcp(long inode, int family, int state, Address local, Address peer) {
        return new SocketDescription(inode, family, Net.SOCK_STREAM, Net.IPPROTO_TCP, state, 0,
                state == Net.TCP_LISTEN ? 16 : 0, local, peer, 0, new long[0], Map.of());
    }

    private static SocketDescription unix(long inode, int type, int state, Address local, Address peer, long peerInode,
            long... waiting) {
        return new SocketDescription(inode, Net.AF_UNIX, type, 0, state, 0, 0, local, peer, peerInode, waiting, Map.of());
    }

    private static Map<Long, Link> links(SocketDescription... sockets) {
        Map<Long, SocketDescription> members = new LinkedHashMap<>();
        for (SocketDescription s : sockets) {
            members.put(s.inode(), s);
        }
        return new Topology(members).links();
    }

    @Test
    void tcpEndsMatchByAddressAndKnowTheirListener() {
        Address server = Address.loopback(Net.AF_INET, 8000);
        Address client = Address.loopback(Net.AF_INET, 40000);
        Address waiting = Address.loopback(Net.AF_INET, 40001);
        Address elsewhere = Address.inet(Net.AF_INET, new byte[] {10, 1, 2, 3}, 443);
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        Address v6client = Address.inet(Net.AF_INET6, mapped, 40002);

        Map<Long, Link> links = links(
                tcp(1, Net.AF_INET, Net.TCP_LISTEN, ANY, Address.NONE),
                tcp(2, Net.AF_INET, Net.TCP_ESTABLISHED, server, client),
                tcp(3, Net.AF_INET, Net.TCP_FIN_WAIT2, client, server),
                tcp(4, Net.AF_INET, Net.TCP_ESTABLISHED, waiting, server),
                tcp(5, Net.AF_INET, Net.TCP_ESTABLISHED, Address.loopback(Net.AF_INET, 40003), elsewhere),
                tcp(6, Net.AF_INET, Net.TCP_SYN_SENT, Address.loopback(Net.AF_INET, 40004), Address.NONE),
                tcp(7, Net.AF_INET6, Net.TCP_ESTABLISHED, v6client, Address.inet(Net.AF_INET6, mapped, 8000)
                        .withPort(8000)),
                tcp(8, Net.AF_INET, Net.TCP_ESTABLISHED, server, Address.loopback(Net.AF_INET, 40002)),
                tcp(9, Net.AF_INET, Net.TCP_CLOSE, Address.NONE, Address.NONE));

        assertEquals(Link.ALONE, links.get(1L));
        assertEquals(new Link(Link.Kind.PAIR, 3, 1), links.get(2L));
        assertEquals(new Link(Link.Kind.PAIR, 2, 1), links.get(3L));
        assertEquals(new Link(Link.Kind.WAITING, 1, 0), links.get(4L));
        assertEquals(Link.OUTSIDE, links.get(5L));
        assertEquals(Link.OUTSIDE, links.get(6L));
        assertEquals(new Link(Link.Kind.PAIR, 8, 1), links.get(7L), "an IPv4-mapped client matches");
        assertEquals(Link.ALONE, links.get(9L));
    }

    @Test
    void anIpv6OnlyListenerOnTheSamePortTakesNoIpv4Connection() {
        // Open MPI: one rank's IPv6 listener (V6ONLY) and another's IPv4 listener share a port number.
        Address v6any = Address.inet(Net.AF_INET6, new byte[16], 8000);
        Address server = Address.inet(Net.AF_INET, new byte[] {(byte) 192, 0, 2, 2}, 8000);
        Address client = Address.inet(Net.AF_INET, new byte[] {(byte) 192, 0, 2, 2}, 40000);
        SocketDescription v6only = new SocketDescription(1, Net.AF_INET6, Net.SOCK_STREAM, Net.IPPROTO_TCP,
                Net.TCP_LISTEN, 0, 16, v6any, Address.NONE, 0, new long[0], Map.of(SocketOption.V6ONLY, new long[] {1}));

        Map<Long, Link> links = links(v6only,
                tcp(2, Net.AF_INET, Net.TCP_LISTEN, ANY, Address.NONE),
                tcp(3, Net.AF_INET, Net.TCP_ESTABLISHED, client, server),
                tcp(4, Net.AF_INET, Net.TCP_ESTABLISHED, server, client));

        assertEquals(new Link(Link.Kind.PAIR, 4, 2), links.get(3L));
        assertEquals(new Link(Link.Kind.PAIR, 3, 2), links.get(4L));
    }

    @Test
    void unixSocketsFollowTheKernelsPeers() {
        Address path = Address.unixPath("/run/app.sock");
        Address unnamed = new Address(new byte[] {1, 0});
        Map<Long, Link> links = links(
                unix(10, Net.SOCK_STREAM, Net.TCP_LISTEN, path, Address.NONE, 0, 13),
                unix(11, Net.SOCK_STREAM, Net.TCP_ESTABLISHED, unnamed, path, 12),
                unix(12, Net.SOCK_STREAM, Net.TCP_ESTABLISHED, path, unnamed, 11),
                unix(13, Net.SOCK_STREAM, Net.TCP_ESTABLISHED, unnamed, path, 99),
                unix(14, Net.SOCK_DGRAM, Net.TCP_ESTABLISHED, Address.unixPath("/run/log"), Address.NONE, 0),
                unix(15, Net.SOCK_DGRAM, Net.TCP_ESTABLISHED, unnamed, Address.unixPath("/run/log"), 14),
                unix(16, Net.SOCK_SEQPACKET, Net.TCP_ESTABLISHED, unnamed, unnamed, 17),
                unix(17, Net.SOCK_SEQPACKET, Net.TCP_ESTABLISHED, unnamed, unnamed, 16),
                unix(18, Net.SOCK_STREAM, Net.TCP_ESTABLISHED, unnamed, Address.unixPath("/run/dbus"), 5000),
                unix(19, Net.SOCK_STREAM, Net.TCP_ESTABLISHED, unnamed, unnamed, 0));

        assertEquals(new Link(Link.Kind.PAIR, 12, 10), links.get(11L));
        assertEquals(new Link(Link.Kind.PAIR, 11, 10), links.get(12L));
        assertEquals(new Link(Link.Kind.WAITING, 10, 0), links.get(13L));
        assertEquals(Link.ALONE, links.get(14L), "a receiver others send to is on its own");
        assertEquals(new Link(Link.Kind.TO, 14, 0), links.get(15L));
        assertEquals(new Link(Link.Kind.PAIR, 17, 0), links.get(16L));
        assertEquals(Link.OUTSIDE, links.get(18L));
        assertEquals(Link.OUTSIDE, links.get(19L), "a peer that is gone");
        assertEquals(List.of(10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L), List.copyOf(links.keySet()));
    }
}
