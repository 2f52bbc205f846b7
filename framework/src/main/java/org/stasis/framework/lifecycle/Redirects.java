package org.stasis.framework.lifecycle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The rules of {@link org.stasis.api.RestartPlan#redirect}: what one plan's redirects may be. */
public final class Redirects {
    private Redirects() {
    }

    /**
     * @param existing the plan's redirects so far
     * @param from the path the processes use
     * @param to where it is served from
     * @throws IllegalArgumentException if the new redirect is not allowed, one line why
     */
    public static void check(Map<Path, Path> existing, Path from, Path to) {
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

    /**
     * The user's redirects ({@code --redirect OLD=NEW}) whose NEW is no directory
     * must not cover files under OLD: checked, before any plugin runs, against the
     * paths the checkpoint's plugin records name (OLD itself may be gone by now).
     *
     * @param records the checkpoint's plugin records, by plugin
     * @param user the user's redirects
     * @throws IllegalArgumentException naming the first such redirect
     */
    static void checkTargets(Map<String, Map<String, String>> records, Map<Path, Path> user) {
        for (Map.Entry<Path, Path> r : user.entrySet()) {
            String under = r.getKey().normalize() + "/";
            if (Files.isDirectory(r.getValue())) {
                continue;
            }
            boolean named = records.values().stream().flatMap(m -> m.values().stream())
                    .anyMatch(v -> v != null && v.contains(under));
            if (named) {
                throw new IllegalArgumentException("--redirect " + r.getKey() + "=" + r.getValue() + ": "
                        + r.getValue() + " is not a directory, but the checkpoint has files under " + r.getKey()
                        + "; name the directory they are in now");
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
