package org.stasis.samples.reconnect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class EndpointTest {
    @Test
    void readsIpv4AndBracketedIpv6() {
        Endpoint v4 = Endpoint.parse(" 127.0.0.1:5432 ");
        assertInstanceOf(Inet4Address.class, v4.address());
        assertEquals(5432, v4.port());
        Endpoint v6 = Endpoint.parse("[::1]:6379");
        assertInstanceOf(Inet6Address.class, v6.address());
        assertEquals(6379, v6.port());
    }

    @Test
    void writesWhatItReads() {
        for (String text : List.of("10.1.2.3:1", "[0:0:0:0:0:0:0:1]:65535", "[fe80:0:0:0:0:0:0:1%2]:80")) {
            assertEquals(text, Endpoint.parse(text).toString());
        }
    }

    @Test
    void anIpv4MappedAddressIsTheIpv4Service() {
        assertEquals(Endpoint.parse("127.0.0.1:5432"), Endpoint.parse("[::ffff:127.0.0.1]:5432"));
    }

    @Test
    void refusesNamesAndMalformedAddresses() {
        for (String text : List.of("localhost:5432", "db.example.org:5432", "256.0.0.1:80", "1.2.3:80",
                "1.2.3.4.5:80", "::1:5432", "[nothost]:80", "[zz::1]:80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
                "127.0.0.1:65536", "127.0.0.1:http")) {
            assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(text), text);
        }
    }

    @Test
    void settingsSplitListsAndNameWhatTheyIgnore() {
        Settings settings = Settings.of(new String[] { "127.0.0.1:5432, [::1]:6379", "10.0.0.1:1 localhost:2" }, 0);
        assertEquals(List.of(Endpoint.parse("127.0.0.1:5432"), Endpoint.parse("[::1]:6379"),
                Endpoint.parse("10.0.0.1:1")), settings.services());
        assertEquals(1, settings.problems().size());
        assertTrue(settings.problems().get(0).contains("localhost:2"), settings.problems().toString());
        assertEquals(Duration.ofMillis(1), settings.connectTimeout());
        assertTrue(settings.isService(Endpoint.parse("[::ffff:127.0.0.1]:5432")));
        assertTrue(!settings.isService(Endpoint.parse("127.0.0.1:5433")));
    }

    @Test
    void noServicesByDefault() {
        assertTrue(Settings.of(new String[0], 2000).services().isEmpty());
    }
}
