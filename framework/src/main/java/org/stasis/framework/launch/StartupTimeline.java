package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the coordinator's start-up time goes, one stderr line per step (wall and CPU time
 * since the JVM started) when the system property {@code stasis.timeline} is true
 * ({@code STASIS_JAVA_OPTS=-Dstasis.timeline=true}); silent and free otherwise.
 */
final class StartupTimeline {
    /** Clock ticks per second of /proc's CPU counters (USER_HZ, 100 on every Linux we run on). */
    private static final long TICKS_PER_SECOND = 100;

    private final boolean enabled;
    private final long startMillis;

    private StartupTimeline(boolean enabled, long startMillis) {
        this.enabled = enabled;
        this.startMillis = startMillis;
    }

    static StartupTimeline fromSystemProperty() {
        if (!Boolean.getBoolean("stasis.timeline")) {
            return new StartupTimeline(false, 0);
        }
        long start = ProcessHandle.current().info().startInstant().map(i -> i.toEpochMilli())
                .orElse(System.currentTimeMillis());
        return new StartupTimeline(true, start);
    }

    boolean enabled() {
        return enabled;
    }

    /** Prints one line: milliseconds since the JVM started, its CPU milliseconds so far, and what happened. */
    void mark(String what) {
        if (enabled) {
            System.err.printf("stasis: timeline %5d ms wall %5d ms CPU  %s%n", System.currentTimeMillis() - startMillis,
                    cpuMillis(), what);
        }
    }

    // utime and stime of /proc/self/stat (fields 14 and 15, after the parenthesised command name)
    private static long cpuMillis() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
