package org.stasis.plugin.event;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Finds a path for an inode an inotify instance watches. The kernel keeps no path, so
 * this tries, in order: opening the inode by its file handle (needs CAP_DAC_READ_SEARCH,
 * so usually only when the coordinator runs as root); the hint paths (the processes'
 * working directories and open files) and their ancestors; and last a bounded walk
 * under the hint directories.
 */
final class WatchPaths implements InotifyState.PathFinder {
    private static final int WALK_DEPTH = 6;

    private final Kernel kernel;
    private final Path mountInfo;
    private final List<Path> hints;
    private final int walkLimit;
    private Map<Key, String> walked;

    /** A file's identity as stat(2) gives it. */
    private record Key(long device, long inode) {
    }

    /**
     * @param kernel system calls
     * @param mountInfo the mount table to find a mount of a device in (/proc/self/mountinfo)
     * @param hints paths where watched files are likely: working directories, open files
     * @param walkLimit how many entries the walk under the hint directories may visit
     */
    WatchPaths(Kernel kernel, Path mountInfo, List<Path> hints, int walkLimit) {
        this.kernel = kernel;
        this.mountInfo = mountInfo;
        this.hints = List.copyOf(hints);
        this.walkLimit = walkLimit;
    }

    @Override
    public Optional<String> find(long inode, long device, Optional<FileHandle> handle) throws IOException {
        Key key = new Key(userDevice(device), inode);
        if (handle.isPresent()) {
            Optional<String> path = byHandle(key, device, handle.get());
            if (path.isPresent()) {
                return path;
            }
        }
        for (Path candidate : hintsAndAncestors()) {
            if (key.equals(keyOf(candidate))) {
                return Optional.of(candidate.toString());
            }
        }
        if (walked == null) {
            walked = walk();
        }
        return Optional.ofNullable(walked.get(key));
    }

    /** Converts the kernel's device encoding (major << 20 | minor) to stat(2)'s. */
    static long userDevice(long kernelDevice) {
        long major = kernelDevice >>> 20;
        long minor = kernelDevice & 0xfffff;
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    private Optional<String> byHandle(Key key, long kernelDevice, FileHandle handle) throws IOException {
        for (String mountPoint : mountPoints(kernelDevice)) {
            int mountFd;
            try {
                mountFd = kernel.openDirectory(mountPoint);
            } catch (IOException e) {
                continue;
            }
            try {
                OptionalInt opened = kernel.openByHandle(mountFd, handle.type(), handle.bytes());
                if (opened.isEmpty()) {
                    continue;
                }
                try {
                    Path path = Files.readSymbolicLink(Path.of("/proc/self/fd/" + opened.getAsInt()));
                    if (key.equals(keyOf(path))) {
                        return Optional.of(path.toString());
                    }
                } finally {
                    kernel.close(opened.getAsInt());
                }
            } finally {
                kernel.close(mountFd);
            }
        }
        return Optional.empty();
    }

    // Fields of a mountinfo line: id, parent, major:minor, root, mount point, ...
    private List<String> mountPoints(long kernelDevice) {
        String device = (kernelDevice >>> 20) + ":" + (kernelDevice & 0xfffff);
        List<String> lines;
        try {
            lines = Files.readAllLines(mountInfo);
        } catch (IOException e) {
            // Without a mount table the file handles cannot be used; the search still can.
            return List.of();
        }
        List<String> points = new ArrayList<>();
        for (String line : lines) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && fields[2].equals(device)) {
                points.add(unescape(fields[4]));
            }
        }
        return points;
    }

    // mountinfo writes space, tab, newline and backslash as \ooo.
    private static String unescape(String field) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }

    private Set<Path> hintsAndAncestors() {
        Set<Path> candidates = new LinkedHashSet<>();
        for (Path hint : hints) {
            for (Path path = hint; path != null; path = path.getParent()) {
                candidates.add(path);
            }
        }
        return candidates;
    }

    private Map<Key, String> walk() {
        Map<Key, String> found = new HashMap<>();
        int[] budget = {walkLimit};
        for (Path root : hints) {
            if (budget[0] <= 0 || !Files.isDirectory(root)) {
                continue;
            }
            try {
                Files.walkFileTree(root, EnumSet.noneOf(FileVisitOption.class), WALK_DEPTH,
                        new SimpleFileVisitor<>() {
                            @Override
                            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                                if (dir.startsWith("/proc") || dir.startsWith("/sys")) {
                                    return FileVisitResult.SKIP_SUBTREE;
                                }
                                return record(dir);
                            }

                            @Override
                            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                                return record(file);
                            }

                            @Override
                            public FileVisitResult visitFileFailed(Path file, IOException e) {
                                return FileVisitResult.CONTINUE;
                            }

                            private FileVisitResult record(Path path) {
                                Key key = keyOf(path);
                                if (key != null) {
                                    found.putIfAbsent(key, path.toString());
                                }
                                return --budget[0] > 0 ? FileVisitResult.CONTINUE : FileVisitResult.TERMINATE;
                            }
                        });
            } catch (IOException e) {
                // A root that cannot be walked adds nothing.
            }
        }
        return found;
    }

    // Follows symbolic links, as inotify_add_watch does unless told IN_DONT_FOLLOW.
    private static Key keyOf(Path path) {
        try {
            Map<String, Object> attributes = Files.readAttributes(path, "unix:dev,ino");
            return new Key((Long) attributes.get("dev"), (Long) attributes.get("ino"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }
}
