package org.stasis.plugin.event;

import java.util.ArrayList;
import java.util.List;

/**
 * A descriptor that refers to an event object: which process, which number, and that
 * descriptor's open(2) flags (O_CLOEXEC differs per descriptor).
 *
 * @param pid the process id inside the computation
 * @param fd the descriptor number
 * @param flags the flags as {@link org.stasis.api.OpenFd#flags()}
 */
record Holder(int pid, int fd, int flags) {
    static String encode(List<Holder> holders) {
        StringBuilder text = new StringBuilder();
        for (Holder holder : holders) {
            text.append(text.length() == 0 ? "" : " ")
                    .append(holder.pid).append(':').append(holder.fd).append(':').append(Integer.toOctalString(holder.flags));
        }
        return text.toString();
    }

    static List<Holder> decode(String text) {
        List<Holder> holders = new ArrayList<>();
        for (String word : text.trim().split(" ")) {
            String[] parts = word.split(":");
            holders.add(new Holder(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2], 8)));
        }
        return holders;
    }
}
