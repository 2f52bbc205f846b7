package org.stasis.plugin.socket;

import java.io.IOException;
import java.util.Map;

/** The other parts of a computation that spans hosts, as {@code EventContext.exchange} reaches them. */
@FunctionalInterface
interface Exchange {
    /**
     * @param topic what is exchanged (once per event)
     * @param mine this part's bytes
     * @return every part's bytes by part name, this part's included; parts that gave nothing are absent
     * @throws IOException if a part could not be reached
     */
    Map<String, byte[]> exchange(String topic, byte[] mine) throws IOException;
}
