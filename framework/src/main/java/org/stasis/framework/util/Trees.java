package org.stasis.framework.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * File tree helpers. Depends on the JDK only, because the launcher uses it from the
 * class path where no bundle (Jackson, OSGi services) is visible.
 */
public final class Trees {
    private Trees() {
    }

    /**
     * Deletes a file or a directory tree; does nothing if it does not exist.
     *
     * @param path what to delete
     * @throws IOException if something cannot be deleted
     */
    public static void delete(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(path)) {
            paths = walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList());
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }
}
