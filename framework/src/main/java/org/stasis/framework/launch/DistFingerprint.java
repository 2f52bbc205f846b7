package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * What a reused framework cache must have been made from: each of the distribution's jars
 * (launcher and bundles) and its system package list, the plugins folder and every file in it,
 * and the JVM, each by path, size and modification time. A cache holds bundles' state and
 * Declarative Services' parsed descriptors keyed by bundle id, not by content; a rebuilt or
 * upgraded jar, another plugins folder or another JVM must never meet the state of the old one.
 */
final class DistFingerprint {
    /** Changes whenever what the cache holds or how it is used changes. */
    private static final String FORMAT = "stasis framework cache 1";

    private DistFingerprint() {
    }

    /**
     * @param home the distribution
     * @param plugins the plugins folder (it need not exist yet)
     * @return one line per thing the cache depends on
     * @throws IOException if the distribution cannot be listed
     */
    static String of(Path home, Path plugins) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(FORMAT);
        lines.add("jvm " + System.getProperty("java.home") + " " + System.getProperty("java.vm.version"));
        describe(home.resolve("lib"), "*.jar", lines);
        describe(home.resolve("lib"), "system-packages", lines);
        describe(home.resolve("bundles"), "*.jar", lines);
        lines.add("plugins " + plugins);
        describe(plugins, "*", lines);
        return String.join("\n", lines) + "\n";
    }

    private static void describe(Path directory, String glob, List<String> lines) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> listed = Files.newDirectoryStream(directory, glob)) {
            listed.forEach(files::add);
        } catch (NoSuchFileException e) {
            return;
        }
        files.sort(null);
        for (Path file : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                lines.add(file + " " + a.size() + " " + a.lastModifiedTime().toInstant());
            } catch (NoSuchFileException e) {
                // removed as it was listed: it is not there
            }
        }
    }
}
