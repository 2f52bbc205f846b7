package org.stasis.framework.control;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Log lines of one kind at most {@code burst} times per interval: a flood of refused or
 * failed connections costs a few lines, and the first line of the next interval says
 * how many similar lines were left out.
 */
final class RateLimitedLog {
    private static final int MAX_KINDS = 1024;

    private static final class Window {
        long start;
        int printed;
        int suppressed;
    }

    private final PrintStream out;
    private final long intervalMillis;
    private final int burst;
    private final LongSupplier clock;
    private final Map<String, Window> kinds = new HashMap<>();

    /**
     * @param out where lines go
     * @param intervalMillis the length of a window
     * @param burst lines of one kind printed per window
     * @param clock milliseconds
     */
    RateLimitedLog(PrintStream out, long intervalMillis, int burst, LongSupplier clock) {
        this.out = out;
        this.intervalMillis = intervalMillis;
        this.burst = burst;
        this.clock = clock;
    }

    /**
     * @param kind what the line is about; lines of one kind share the limit
     * @param line the line, without a trailing newline
     * @return whether the line was printed
     */
    synchronized boolean log(String kind, String line) {
        long now = clock.getAsLong();
        if (!kinds.containsKey(kind) && kinds.size() >= MAX_KINDS) {
            kinds.clear();
        }
        Window window = kinds.computeIfAbsent(kind, k -> new Window());
        int left = 0;
        if (window.printed > 0 && now - window.start >= intervalMillis) {
            left = window.suppressed;
            window.printed = 0;
            window.suppressed = 0;
        }
        if (window.printed >= burst) {
            window.suppressed++;
            return false;
        }
        if (window.printed == 0) {
            window.start = now;
        }
        window.printed++;
        out.println(left == 0 ? line : line + " (" + left + " similar lines left out before this one)");
        out.flush();
        return true;
    }
}
