package org.stasis.plugin.socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class RecordsTest {
    @Test
    void aDescriptionSurvivesItsRecord() {
        Map<SocketOption, long[]> options = new EnumMap<>(SocketOption.class);
        options.put(SocketOption.NODELAY, new long[] {1});
        options.put(SocketOption.LINGER, new long[] {1, 5});
        options.put(SocketOption.RCVTIMEO, new long[] {2, 500000});
        SocketDescription d = new SocketDescription(4242, Net.AF_INET6, Net.SOCK_STREAM, Net.IPPROTO_TCP,
                Net.TCP_ESTABLISHED, Net.SEND_SHUTDOWN, 0, Address.loopback(Net.AF_INET6, 4000),
                Address.loopback(Net.AF_INET6, 5000), 0, new long[] {7, 8}, options);

        SocketDescription back = SocketDescription.decode(4242, d.encode());

        assertEquals(d, back);
        assertArrayEquals(new long[] {1, 5}, back.options().get(SocketOption.LINGER));
        assertArrayEquals(new long[] {7, 8}, back.waiting());
        assertEquals(Address.loopback(Net.AF_INET6, 5000), back.peer());
    }

    @Test
    void queuesSurviveTheirBlob() throws Exception {
        Queued stream = Queued.ofBytes(Kit.random(1000, 1));
        Queued messages = Queued.ofMessages(List.of(
                new Queued.Message(Address.unixPath("/tmp/a"), "one".getBytes()),
                new Queued.Message(Address.NONE, new byte[0]),
                new Queued.Message(Address.loopback(Net.AF_INET, 53), "three".getBytes())));

        assertEquals(stream, Queued.decode(stream.encode()));
        assertEquals(messages, Queued.decode(messages.encode()));
        assertEquals("3 messages (8 bytes)", messages.summary());
    }

    @Test
    void linksAndHoldersSurviveTheirRecords() {
        Link link = new Link(Link.Kind.PAIR, 12, 34);
        List<Holder> holders = List.of(new Holder(1, 3, 02004002), new Holder(7, 9, 2));

        assertEquals(link, Link.decode(link.encode()));
        assertEquals(holders, Holder.decode(Holder.encode(holders)));
    }
}
