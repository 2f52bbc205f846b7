package org.stasis.plugin.event;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reading the lines of /proc/PID/fdinfo/FD. The kernel formats them by hand, with a
 * different base per field (hex counts, octal flags, decimal clocks), so each caller
 * says which base it expects.
 */
final class FdInfo {
    private FdInfo() {
    }

    /** @return the text after {@code name:} on the first line that starts with it, trimmed */
    static Optional<String> value(List<String> lines, String name) {
        String prefix = name + ":";
        for (String line : lines) {
            if (line.startsWith(prefix)) {
                return Optional.of(line.substring(prefix.length()).trim());
            }
        }
        return Optional.empty();
    }

    /** Like {@link #value} for a field that must be there. */
    static String required(List<String> lines, String name) throws IOException {
        return value(lines, name).orElseThrow(() -> new IOException("fdinfo has no " + name + ": line: " + lines));
    }

    /**
     * Splits a line of {@code name:value} pairs, such as an epoll {@code tfd:} line or an
     * {@code inotify wd:} line, into its pairs. Words without a colon are left out.
     */
    static Map<String, String> pairs(String line) {
        Map<String, String> pairs = new LinkedHashMap<>();
        for (String word : line.trim().replaceAll(":\\s+", ":").split("\\s+")) {
            int colon = word.indexOf(':');
            if (colon > 0) {
                pairs.put(word.substring(0, colon), word.substring(colon + 1));
            }
        }
        return pairs;
    }

    /** @return a pair's value, failing with the whole line if it is missing */
    static String pair(Map<String, String> pairs, String name, String line) throws IOException {
        String value = pairs.get(name);
        if (value == null) {
            throw new IOException("fdinfo line has no " + name + ": " + line);
        }
        return value;
    }

    static long hex(String text) {
        return Long.parseUnsignedLong(text, 16);
    }
}
