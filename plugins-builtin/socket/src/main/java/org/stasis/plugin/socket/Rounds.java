package org.stasis.plugin.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An exchange of any size: one exchange carries at most 16 MiB per part, so the bytes
 * go in rounds of at most {@value #CHUNK} bytes (topics {@code topic}, {@code topic.1},
 * {@code topic.2}, ...), each part's chunk behind one byte that says whether more
 * follows. Every part takes part in every round until no part has more, so all parts
 * run the same rounds.
 */
final class Rounds {
    static final int CHUNK = 8 << 20;

    private Rounds() {
    }

    /**
     * @param exchange how to reach the other parts
     * @param topic the first round's topic
     * @param mine this part's bytes
     * @return every part's bytes, whole, by part name (parts that gave nothing are absent)
     */
    static Map<String, byte[]> exchange(Exchange exchange, String topic, byte[] mine) throws IOException {
        return exchange(exchange, topic, mine, CHUNK);
    }

    static Map<String, byte[]> exchange(Exchange exchange, String topic, byte[] mine, int chunk) throws IOException {
        Map<String, ByteArrayOutputStream> all = new LinkedHashMap<>();
        int offset = 0;
        for (int round = 0;; round++) {
            int length = Math.min(chunk, mine.length - offset);
            byte[] give = new byte[length + 1];
            give[0] = (byte) (offset + length < mine.length ? 1 : 0);
            System.arraycopy(mine, offset, give, 1, length);
            offset += length;
            boolean more = false;
            for (Map.Entry<String, byte[]> part : exchange.exchange(round == 0 ? topic : topic + "." + round, give)
                    .entrySet()) {
                byte[] got = part.getValue();
                if (got.length == 0) {
                    continue;
                }
                all.computeIfAbsent(part.getKey(), k -> new ByteArrayOutputStream()).write(got, 1, got.length - 1);
                more |= got[0] == 1;
            }
            if (!more) {
                Map<String, byte[]> whole = new LinkedHashMap<>();
                all.forEach((name, bytes) -> whole.put(name, bytes.toByteArray()));
                return whole;
            }
        }
    }
}
