package org.stasis.plugin.socket;

import java.util.ArrayList;
import java.util.List;

/**
 * A descriptor of a process that refers to a socket.
 *
 * @param pid the process (inside the computation)
 * @param fd the descriptor number
 * @param flags its open(2) flags (O_NONBLOCK, O_CLOEXEC, ...)
 */
record Holder(int pid, int fd, int flags) {
    /** @return the record text of several holders, e.g. {@code 12:3:2 12:7:2} */
    static String encode(List<Holder> holders) {
        StringBuilder text = new StringBuilder();
        for (Holder h : holders) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(h.pid).append(':').append(h.fd).append(':').append(h.flags);
        }
        return text.toString();
    }

    /** @return the holders {@link #encode} wrote */
    static List<Holder> decode(String text) {
        List<Holder> holders = new ArrayList<>();
        for (String part : text.trim().split(" +")) {
            String[] f = part.split(":");
            holders.add(new Holder(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2])));
        }
        return holders;
    }
}
