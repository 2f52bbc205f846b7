package org.stasis.plugin.pty;

import java.util.ArrayList;
import java.util.List;

/**
 * A descriptor of a process on one side of a pseudo-terminal.
 *
 * @param pid the process, inside the computation
 * @param fd its descriptor number
 * @param flags its open(2) flags
 */
record Holder(int pid, int fd, int flags) {
    String encode() {
        return pid + ":" + fd + ":" + flags;
    }

    static Holder decode(String text) {
        String[] f = text.split(":");
        return new Holder(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]));
    }

    static String encode(List<Holder> holders) {
        return String.join(",", holders.stream().map(Holder::encode).toList());
    }

    static List<Holder> decodeAll(String text) {
        List<Holder> holders = new ArrayList<>();
        for (String one : text.split(",")) {
            if (!one.isEmpty()) {
                holders.add(decode(one));
            }
        }
        return holders;
    }
}
