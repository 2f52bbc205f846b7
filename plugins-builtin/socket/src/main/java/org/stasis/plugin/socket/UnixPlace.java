package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where a Unix socket bound to a path lives: the socket file's permissions (or that the
 * program had removed the file: the socket keeps its name, nobody can reach it by
 * path) and the permissions of the directories above it, nearest first. A restart
 * recreates directories that are gone (with their old permissions), binds, then gives
 * the socket file its permissions again or removes it again.
 *
 * @param fileMode the socket file's permission bits, or {@link #ABSENT}
 * @param directoryModes the permission bits of the parent, grandparent, ... up to the root
 */
record UnixPlace(int fileMode, List<Integer> directoryModes) {
    /** The socket file was not there at checkpoint time. */
    static final int ABSENT = -1;

    UnixPlace {
        directoryModes = List.copyOf(directoryModes);
    }

    /** @return where the socket bound to {@code path} lives now */
    static UnixPlace capture(Path path) throws IOException {
        int file;
        try {
            // Something other than a socket under the name: the socket's own file is gone.
            file = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()
                    ? mode(path) : ABSENT;
        } catch (NoSuchFileException e) {
            file = ABSENT;
        }
        List<Integer> directories = new ArrayList<>();
        for (Path d = path.getParent(); d != null && d.getParent() != null; d = d.getParent()) {
            directories.add(mode(d));
        }
        return new UnixPlace(file, directories);
    }

    private static int mode(Path path) throws IOException {
        int bits = 0;
        for (PosixFilePermission p : Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)) {
            bits |= 0400 >> p.ordinal();
        }
        return bits;
    }

    private static Set<PosixFilePermission> permissions(int bits) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if ((bits & (0400 >> p.ordinal())) != 0) {
                set.add(p);
            }
        }
        return set;
    }

    /** Recreates the missing directories above {@code path}, outermost first, each with its old permissions. */
    void makeDirectories(Path path, Consumer<String> log) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path d = path.getParent(); d != null && !Files.isDirectory(d); d = d.getParent()) {
            missing.add(0, d);
        }
        for (Path d : missing) {
            int depth = path.getNameCount() - d.getNameCount() - 1;
            int bits = depth < directoryModes.size() ? directoryModes.get(depth) : 0700;
            Files.createDirectory(d);
            Files.setPosixFilePermissions(d, permissions(bits));
            log.accept("the directory " + d + " of Unix socket " + path + " was gone; recreated with mode "
                    + Integer.toOctalString(bits));
        }
    }

    /** Gives the socket file just bound its old permissions (one the program had removed is removed later). */
    void settle(Path path) throws IOException {
        if (fileMode != ABSENT) {
            Files.setPosixFilePermissions(path, permissions(fileMode));
        }
    }

    /** @return the record text, e.g. {@code 600 710 750 1777}, or {@code absent 710 ...} */
    String encode() {
        StringBuilder text = new StringBuilder(fileMode == ABSENT ? "absent" : Integer.toOctalString(fileMode));
        directoryModes.forEach(m -> text.append(' ').append(Integer.toOctalString(m)));
        return text.toString();
    }

    /** @return the place {@link #encode} wrote */
    static UnixPlace decode(String text) {
        String[] parts = text.trim().split(" +");
        List<Integer> directories = new ArrayList<>();
        for (int i = 1; i < parts.length; i++) {
            directories.add(Integer.parseInt(parts[i], 8));
        }
        return new UnixPlace(parts[0].equals("absent") ? ABSENT : Integer.parseInt(parts[0], 8), directories);
    }
}
