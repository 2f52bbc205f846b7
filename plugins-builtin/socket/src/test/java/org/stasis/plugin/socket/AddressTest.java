package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class AddressTest {
    @Test
    void anIpv4MappedPeerMatchesThePlainIpv4Address() {
        Address v4 = Address.inet(Net.AF_INET, new byte[] {127, 0, 0, 1}, 8000);
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        mapped[12] = 127;
        mapped[15] = 1;
        Address v6 = Address.inet(Net.AF_INET6, mapped, 8000);

        assertEquals(v4.key(), v6.key());
        assertEquals("127.0.0.1:8000", v4.toString());
        assertEquals(8000, v6.port());
        assertEquals(v6, v4.reachableFrom(Net.AF_INET6));
        assertEquals(v4, v6.reachableFrom(Net.AF_INET));
    }

    @Test
    void aWildcardListenerAcceptsItsPortOnly() {
        Address any4 = Address.inet(Net.AF_INET, new byte[4], 8000);
        Address any6 = Address.inet(Net.AF_INET6, new byte[16], 8000);
        Address loop4 = Address.loopback(Net.AF_INET, 8000);
        Address loop6 = Address.loopback(Net.AF_INET6, 8000);

        assertTrue(any4.accepts(loop4));
        assertFalse(any4.accepts(loop6));
        assertTrue(any6.accepts(loop6));
        assertTrue(any6.accepts(loop4));
        assertFalse(any4.accepts(loop4.withPort(8001)));
        assertFalse(loop4.accepts(Address.inet(Net.AF_INET, new byte[] {10, 0, 0, 1}, 8000)));
        assertTrue(any4.isWildcard());
        assertFalse(any4.isUnnamed());
        assertTrue(any4.withPort(0).isUnnamed());
        assertEquals(Address.loopback(Net.AF_INET, 8000), any4.reachable());
    }

    @Test
    void unixNamesKeepTheirKind() {
        Address path = Address.unixPath("/tmp/s.sock");
        Address hidden = Address.unixAbstract("svc\0x".getBytes(StandardCharsets.UTF_8));

        assertTrue(path.isPath());
        assertEquals("/tmp/s.sock", path.path());
        assertEquals("/tmp/s.sock", path.toString());
        assertTrue(hidden.isAbstract());
        assertFalse(hidden.isPath());
        assertArrayEquals("svc\0x".getBytes(StandardCharsets.UTF_8), hidden.unixName());
        assertEquals("@svc@x", hidden.toString());
        assertTrue(new Address(new byte[] {1, 0}).isUnnamed());
        assertEquals(path, Address.fromHex(path.hex()));
        assertFalse(path.key().equals(Address.unixAbstract("/tmp/s.sock".getBytes(StandardCharsets.UTF_8)).key()));
    }
}
