package org.stasis.framework;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The framework's packages form layers: no package may depend, directly or through
 * others, on a package that depends on it. A cycle made by one convenient import is how
 * layers erode; this fails on the first one, naming it.
 */
class PackageCyclesTest {
    private static final Path SOURCES = Path.of("src", "main", "java", "org", "stasis", "framework");
    private static final Pattern REFERENCE = Pattern.compile("\\borg\\.stasis\\.framework\\.([a-z]+)\\.[A-Z]");

    @Test
    void theFrameworkPackagesHaveNoCycle() throws IOException {
        Map<String, Set<String>> uses = dependencies();
        assertTrue(uses.size() >= 5, "too few packages found under " + SOURCES.toAbsolutePath() + ": " + uses);
        List<String> cycle = firstCycle(uses);
        assertEquals(List.of(), cycle, "a package cycle: " + String.join(" -> ", cycle));
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> uses = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of());
        assertEquals(List.of("a", "b", "c", "a"), firstCycle(uses));
    }

    /** @return package to the framework packages its sources name */
    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String pkg = SOURCES.relativize(file.getParent()).toString().replace('/', '.');
                Set<String> used = uses.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(read(file));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        used.add(m.group(1));
                    }
                }
            }
        }
        return uses;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return the first cycle found, as a path that starts and ends at one package; empty if none */
    static List<String> firstCycle(Map<String, Set<String>> uses) {
        Set<String> done = new TreeSet<>();
        for (String start : new TreeSet<>(uses.keySet())) {
            List<String> path = new ArrayList<>();
            List<String> cycle = visit(start, uses, path, done);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    private static List<String> visit(String pkg, Map<String, Set<String>> uses, List<String> path, Set<String> done) {
        int at = path.indexOf(pkg);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
            cycle.add(pkg);
            return cycle;
        }
        if (done.contains(pkg)) {
            return List.of();
        }
        path.add(pkg);
        for (String next : new TreeSet<>(uses.getOrDefault(pkg, Set.of()))) {
            List<String> cycle = visit(next, uses, path, done);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        done.add(pkg);
        return List.of();
    }
}
