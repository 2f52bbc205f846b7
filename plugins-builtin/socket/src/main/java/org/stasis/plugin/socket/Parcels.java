package org.stasis.plugin.socket;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the parts of a computation tell each other about the ends of their connections
 * between parts, once the drain has linked them: one line per parcel,
 * {@code <kind> <part> <inode> <value>}, addressed to the end {@code inode} of part
 * {@code part}. Kinds: {@code data} (base64 bytes the addressee's peer end must send
 * again), {@code listen} (where the addressee connects at restart), {@code connected}
 * (the address the addressee's new peer connected from).
 */
final class Parcels {
    /**
     * @param kind what the value is
     * @param part the part the parcel is for
     * @param inode the end of that part it is for
     * @param value the value (no spaces)
     */
    record Parcel(String kind, String part, long inode, String value) {
    }

    private final List<Parcel> out = new ArrayList<>();

    /** Adds a parcel to send. */
    Parcels add(String kind, String part, long inode, String value) {
        out.add(new Parcel(kind, part, inode, value));
        return this;
    }

    /** @return the parcels to give, as the exchange's bytes */
    byte[] encode() {
        StringBuilder text = new StringBuilder();
        out.forEach(p -> text.append(p.kind()).append(' ').append(p.part()).append(' ').append(p.inode()).append(' ')
                .append(p.value().isEmpty() ? "-" : p.value()).append('\n'));
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * @param all every part's bytes, by part name, as the exchange returned them
     * @param me this part's name
     * @param kind the kind wanted
     * @return the values of that kind for this part's ends, by inode, with the part that sent each
     */
    static Map<Long, Parcel> forMe(Map<String, byte[]> all, String me, String kind) {
        Map<Long, Parcel> mine = new LinkedHashMap<>();
        all.forEach((sender, bytes) -> new String(bytes, StandardCharsets.US_ASCII).lines().forEach(line -> {
            String[] f = line.trim().split(" ");
            if (f.length == 4 && f[0].equals(kind) && f[1].equals(me)) {
                mine.put(Long.parseLong(f[2]), new Parcel(kind, sender, Long.parseLong(f[2]),
                        f[3].equals("-") ? "" : f[3]));
            }
        }));
        return mine;
    }
}
