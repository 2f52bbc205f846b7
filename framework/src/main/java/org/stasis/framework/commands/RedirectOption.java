package org.stasis.framework.commands;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.stasis.framework.lifecycle.Redirects;

/**
 * {@code stasis restart --redirect OLD=NEW} (repeatable; the command line passes them
 * to {@code restartplan} as one value, {@code OLD=NEW} items separated by TABs, which
 * no redirected path may contain): the program's
 * files moved from OLD to NEW. Checked before anything starts, one line per mistake.
 */
final class RedirectOption {
    private RedirectOption() {
    }

    /**
     * @param value {@code OLD=NEW} items separated by TABs (OLD ends at the first {@code =}); empty: none
     * @return OLD to NEW, in the given order
     * @throws IllegalArgumentException one line: what is wrong and what to do
     */
    static Map<Path, Path> parse(String value) {
        Map<Path, Path> out = new LinkedHashMap<>();
        for (String item : value.split("\t")) {
            if (item.isEmpty()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq <= 0 || eq == item.length() - 1) {
                throw new IllegalArgumentException("--redirect needs OLD=NEW (two paths), not '" + item + "'");
            }
            Path from = Path.of(item.substring(0, eq));
            Path to = Path.of(item.substring(eq + 1));
            if (!from.isAbsolute()) {
                throw new IllegalArgumentException("--redirect " + item + ": OLD must be an absolute path (the path"
                        + " the program uses), not " + from);
            }
            if (!to.isAbsolute()) {
                throw new IllegalArgumentException("--redirect " + item + ": NEW must be an absolute path, not " + to);
            }
            if (!Files.exists(to)) {
                throw new IllegalArgumentException("--redirect " + item + ": " + to + " does not exist; name the place"
                        + " where the files of " + from + " are now");
            }
            if (Files.isDirectory(from) && !Files.isDirectory(to)) {
                throw new IllegalArgumentException("--redirect " + item + ": " + to + " is not a directory, but "
                        + from + " is; name the directory its files are in now");
            }
            Redirects.check(out, from, to);
            out.put(from.normalize(), to.normalize());
        }
        return Collections.unmodifiableMap(out);
    }
}
