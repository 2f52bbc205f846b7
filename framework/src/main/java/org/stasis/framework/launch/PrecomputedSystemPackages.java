package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The packages the system bundle exports, as the distribution's build listed them
 * (distribution/src/cds/SystemPackages.java: Felix's default list, by Felix's own rules): Felix
 * would otherwise build the same list at every start. The list holds only for the JVM and the
 * Felix it was made with; the file's first line names them, and on any other (a dist copied to
 * a machine with another JDK, a JDK update) Felix builds the list itself as before.
 */
final class PrecomputedSystemPackages {
    private PrecomputedSystemPackages() {
    }

    /**
     * @param home the distribution
     * @return its list for this JVM, or empty if it has none for it
     */
    static Optional<String> read(Path home) {
        Path lib = home.resolve("lib");
        try {
            String text = Files.readString(lib.resolve("system-packages"));
            int newline = text.indexOf('\n');
            String stamp = System.getProperty("java.home") + " " + System.getProperty("java.vm.version") + " "
                    + Files.size(lib.resolve("org.apache.felix.framework.jar"));
            if (newline < 0 || !text.substring(0, newline).equals(stamp)) {
                return Optional.empty();
            }
            String packages = text.substring(newline + 1).strip();
            return packages.isEmpty() ? Optional.empty() : Optional.of(packages);
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
