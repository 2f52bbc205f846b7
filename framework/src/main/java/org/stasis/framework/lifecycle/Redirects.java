package org.stasis.framework.lifecycle;

import java.nio.file.Path;
import java.util.Map;

/** The rules of {@link org.stasis.api.RestartPlan#redirect}: what one plan's redirects may be. */
final class Redirects {
    private Redirects() {
    }

    /**
     * @param existing the plan's redirects so far
     * @param from the path the processes use
     * @param to where it is served from
     * @throws IllegalArgumentException if the new redirect is not allowed, one line why
     */
    static void check(Map<Path, Path> existing, Path from, Path to) {
        checkPath(from);
        checkPath(to);
        Path f = from.normalize();
        Path t = to.normalize();
        if (f.getNameCount() == 0) {
            throw new IllegalArgumentException("cannot redirect the root directory /");
        }
        if (t.startsWith(f)) {
            throw new IllegalArgumentException("redirect loop: " + f + " -> " + t + " is inside what it redirects;"
                    + " redirect to a place outside " + f);
        }
        for (Map.Entry<Path, Path> other : existing.entrySet()) {
            if (other.getKey().equals(f)) {
                throw new IllegalArgumentException(f + " is redirected twice (to " + other.getValue() + " and to " + t
                        + "): give it one place");
            }
            if (t.startsWith(other.getKey()) || other.getValue().startsWith(f)) {
                throw new IllegalArgumentException("redirect loop or chain: " + f + " -> " + t + " and "
                        + other.getKey() + " -> " + other.getValue() + "; redirect each old path straight to its"
                        + " final place");
            }
        }
    }

    private static void checkPath(Path path) {
        if (!path.isAbsolute()) {
            throw new IllegalArgumentException("a redirect needs absolute paths, not " + path);
        }
        String text = path.toString();
        if (text.indexOf('\n') >= 0 || text.indexOf('\t') >= 0) {
            throw new IllegalArgumentException("cannot redirect a path with a newline or a tab: "
                    + text.replace("\n", "\\n").replace("\t", "\\t"));
        }
    }
}
