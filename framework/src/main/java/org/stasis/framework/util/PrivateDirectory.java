package org.stasis.framework.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/** A directory only its user may use (sockets, tokens, caches): mode 0700, owned by the user. */
public final class PrivateDirectory {
    private PrivateDirectory() {
    }

    /**
     * Creates {@code path} (mode 0700, with any missing parents) if it does not exist.
     *
     * @param path the directory
     * @return whether it is a directory (not a link to one) owned by this user that no one else
     *         may read, write or enter
     * @throws IOException if it cannot be created or examined
     */
    public static boolean create(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        boolean shared = attributes.permissions().stream()
                .anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"));
        return attributes.isDirectory() && !shared
                && attributes.owner().getName().equals(System.getProperty("user.name"));
    }
}
