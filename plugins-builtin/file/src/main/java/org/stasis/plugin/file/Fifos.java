package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.stasis.api.FdSource;
import org.stasis.api.RestartContext;

/**
 * FIFOs whose name the program removed while they were open: never read at checkpoint
 * time (reading would take the bytes in flight from the program, and block once they
 * are gone); the core drains and refills their data like a pipe's. At restart each one
 * is made again, under its old name if that is free (else in a private directory),
 * opened once per descriptor and unlinked, so that its ends in every process are one
 * FIFO again and show as {@code <path> (deleted)}.
 */
final class Fifos {
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;

    private Fifos() {
    }

    /**
     * @param path a file (links are followed: /proc/PID/fd/N works for deleted ones)
     * @return whether it is a FIFO
     * @throws IOException if it cannot be examined
     */
    static boolean isFifo(Path path) throws IOException {
        return ((Integer) Files.getAttribute(path, "unix:mode") & S_IFMT) == S_IFIFO;
    }

    /**
     * @param path a FIFO
     * @return its inode number
     * @throws IOException if it cannot be examined
     */
    static long inode(Path path) throws IOException {
        return (Long) Files.getAttribute(path, "unix:ino");
    }

    /** A descriptor of a deleted FIFO: {@code <flags> <inode> <path>} in records. */
    record Holder(int pid, int fd, int flags, long inode, String path) {
        String encode() {
            return flags + " " + inode + " " + path;
        }

        static Holder decode(int pid, int fd, String value) {
            String[] parts = value.split(" ", 3);
            return new Holder(pid, fd, Integer.parseInt(parts[0]), Long.parseLong(parts[1]), parts[2]);
        }
    }

    /**
     * Recreates the deleted FIFOs and plans their descriptors.
     *
     * @param context the restart
     * @param holders every descriptor of a deleted FIFO
     * @param opener opens in the coordinator's process
     * @throws IOException if a FIFO cannot be made or opened
     */
    static void recreate(RestartContext context, List<Holder> holders, Opener opener) throws IOException {
        Map<Long, List<Holder>> byInode = new TreeMap<>();
        holders.forEach(h -> byInode.computeIfAbsent(h.inode(), k -> new ArrayList<>()).add(h));
        for (List<Holder> ends : byInode.values()) {
            Path wanted = Path.of(context.plan().rewrite(ends.get(0).path()));
            Path made = make(wanted, opener);
            try {
                for (Holder end : ends) {
                    int descriptor = opener.open(made.toString(), end.flags(), 0);
                    context.plan().process(end.pid()).installFd(end.fd(), new FdSource.Passed(descriptor, end.flags()));
                }
            } finally {
                Files.deleteIfExists(made);
                if (!made.getParent().equals(wanted.getParent())) {
                    Files.deleteIfExists(made.getParent());
                }
            }
        }
    }

    // Under the old name when it is free, so that the descriptors show it as before.
    private static Path make(Path wanted, Opener opener) throws IOException {
        if (wanted.getParent() != null && Files.isDirectory(wanted.getParent()) && !Files.exists(wanted)) {
            try {
                opener.makeFifo(wanted);
                return wanted;
            } catch (IOException e) {
                // not allowed there: a private place will do
            }
        }
        Path made = Files.createTempDirectory("stasis-fifo-").resolve(wanted.getFileName().toString());
        opener.makeFifo(made);
        return made;
    }
}
