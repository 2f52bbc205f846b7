package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether a process descends from another one, by the parent links in /proc. */
final class Descendants {
    private static final int MAX_DEPTH = 4096;

    private Descendants() {
    }

    /**
     * @param ancestor a pid
     * @param pid another pid
     * @return whether {@code pid} is {@code ancestor} or one of its descendants (false if either is gone)
     */
    static boolean of(long ancestor, long pid) {
        long at = pid;
        for (int depth = 0; depth < MAX_DEPTH && at > 1; depth++) {
            if (at == ancestor) {
                return true;
            }
            at = parent(at);
        }
        return false;
    }

    // field 4 of /proc/PID/stat, after the command in parentheses (which may hold spaces and ')')
    private static long parent(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 3);
            return Long.parseLong(after[1]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
