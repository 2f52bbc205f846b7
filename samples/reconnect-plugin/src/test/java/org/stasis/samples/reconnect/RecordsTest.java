package org.stasis.samples.reconnect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Test;

class RecordsTest {
    @Test
    void savedDescriptorsReadBackAsWritten() {
        SavedFd saved = new SavedFd(12, 7, 04002 | 02000000, 98765,
                new TcpConnection(LibC.AF_INET6, Endpoint.parse("[::1]:5432"), true, false));
        assertEquals("fd.12.7", saved.key());
        assertEquals("socket=98765 flags=2004002 inet6 [0:0:0:0:0:0:0:1]:5432 nodelay=1 keepalive=0", saved.value());
        assertEquals(saved, SavedFd.decode(saved.key(), saved.value()));
    }

    @Test
    void damagedRecordsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SavedFd.decode("fd.1.2", "socket=1 flags=2 inet"));
        assertThrows(IllegalArgumentException.class,
                () -> SavedFd.decode("fd.1", "socket=1 flags=2 inet 1.2.3.4:5 nodelay=0 keepalive=0"));
        assertThrows(IllegalArgumentException.class,
                () -> SavedFd.decode("fd.1.2", "socket=1 flags=9 inet 1.2.3.4:5 nodelay=0 keepalive=0"));
        assertThrows(IllegalArgumentException.class, () -> TcpConnection.decode("unix 1.2.3.4:5 nodelay=0 keepalive=0"));
    }

    @Test
    void inodeOfASocketTarget() {
        assertEquals(5678L, SavedFd.inodeOf("socket:[5678]"));
    }

    @Test
    void ipv4SocketAddressLayout() {
        byte[] raw = SocketAddresses.encode(LibC.AF_INET, Endpoint.parse("127.0.0.1:5432"));
        assertEquals(SocketAddresses.IPV4_SIZE, raw.length);
        assertEquals(LibC.AF_INET, ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder()).getShort(0));
        assertArrayEquals(new byte[] { 0x15, 0x38, 127, 0, 0, 1 }, java.util.Arrays.copyOfRange(raw, 2, 8));
        assertEquals(Endpoint.parse("127.0.0.1:5432"), SocketAddresses.decode(raw, raw.length));
    }

    @Test
    void anIpv4PeerOfAnIpv6SocketIsWrittenMapped() {
        byte[] raw = SocketAddresses.encode(LibC.AF_INET6, Endpoint.parse("127.0.0.1:80"));
        assertEquals(SocketAddresses.IPV6_SIZE, raw.length);
        assertArrayEquals(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1 },
                java.util.Arrays.copyOfRange(raw, 8, 24));
        assertEquals(Endpoint.parse("127.0.0.1:80"), SocketAddresses.decode(raw, raw.length));
        assertThrows(IllegalArgumentException.class,
                () -> SocketAddresses.encode(LibC.AF_INET, Endpoint.parse("[::1]:80")));
    }

    @Test
    void ipv6ScopeSurvives() {
        Endpoint scoped = Endpoint.parse("[fe80::1%3]:22");
        byte[] raw = SocketAddresses.encode(LibC.AF_INET6, scoped);
        assertEquals(3, ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder()).getInt(24));
        assertEquals(scoped.toString(), SocketAddresses.decode(raw, raw.length).toString());
    }
}
