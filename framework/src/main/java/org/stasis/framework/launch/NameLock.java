package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * One coordinator per name: the lock on {@code <run>/<name>.lock}, held as long as the
 * coordinator runs. Its holder removes the file before it lets go, so that files do not
 * pile up for every name ever used. That is race-free because a lock counts only while
 * the path still names the locked file: a starter that opened the file just before its
 * holder removed it finds, once it has the lock, that the path names another file or
 * none, and tries again.
 */
final class NameLock implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;

    private NameLock(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /**
     * @param path the lock file
     * @return the lock, or null while another process holds it
     * @throws IOException if the file cannot be created or locked
     */
    static NameLock tryAcquire(Path path) throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            if (lock == null) {
                channel.close();
                return null;
            }
            if (namesLockedFile(path)) {
                return new NameLock(path, channel);
            }
            channel.close(); // its holder removed it as we opened it: a new file is the lock now
        }
        throw new IOException("the lock file " + path + " keeps being replaced");
    }

    /**
     * Removes the lock files of names no coordinator holds (a killed one left its file),
     * each the race-free way: taken, then removed by its holder.
     *
     * @param directory the runtime directory
     * @param own this coordinator's name, whose lock it holds: never opened a second time
     *        (closing any channel on a file drops the process's lock on it)
     * @throws IOException if the directory cannot be listed
     */
    static void sweep(Path directory, String own) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*.lock")) {
            for (Path file : files) {
                if (!file.getFileName().toString().equals(own + ".lock")
                        && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                    NameLock unused = tryAcquire(file);
                    if (unused != null) {
                        unused.close();
                    }
                }
            }
        }
    }

    // Whether the path still names the file we locked: one of our open files (the lock's,
    // found through /proc/self/fd; never a second channel, whose closing would drop the
    // lock) has the device and inode that the path names now.
    private static boolean namesLockedFile(Path path) throws IOException {
        Object named;
        try {
            named = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (NoSuchFileException e) {
            return false;
        }
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                if (named != null && named.equals(keyOf(fd))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static Object keyOf(Path fd) {
        try {
            return Files.readAttributes(fd, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null; // closed meanwhile (the directory stream's own descriptor)
        }
    }

    /** Removes the lock file, then lets go of the lock: the name is free. */
    @Override
    public synchronized void close() {
        if (!channel.isOpen()) {
            return; // let go already: the file there now may be another coordinator's
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // a stale lock file is harmless: the next coordinator of this name reuses it
        }
        try {
            channel.close();
        } catch (IOException e) {
            // the lock goes with the process anyway
        }
    }
}
