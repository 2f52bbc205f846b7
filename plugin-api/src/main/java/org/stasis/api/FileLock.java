package org.stasis.api;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A file lock a process held on one of its descriptors at checkpoint time, as the
 * kernel lists it in {@code /proc/<pid>/fdinfo/<fd>} ({@link ProcessAccess#fdInfo}).
 * A restart takes it again inside the restored process ({@link ProcessPlan#lock}),
 * once its descriptors are installed and before any of its threads runs.
 *
 * @param fd the descriptor the lock was taken through (a POSIX lock belongs to the
 *        process, an OFD lock and a flock to the open file description behind fd)
 * @param kind the kind of lock
 * @param write true for a write (exclusive) lock, false for a read (shared) one
 * @param start the first byte locked (0 for a flock)
 * @param length how many bytes, 0 for "to the end of the file, however long" (always 0 for a flock)
 * @since 1.2
 */
public record FileLock(int fd, Kind kind, boolean write, long start, long length) {
    /** The kernel's lock kinds that a process can take again unprivileged. */
    public enum Kind {
        /** {@code fcntl(F_SETLK)} and {@code lockf}: owned by the process. */
        POSIX,
        /** {@code fcntl(F_OFD_SETLK)}: owned by the open file description. */
        OFD,
        /** {@code flock(2)}: owned by the open file description. */
        FLOCK
    }

    // "lock:\t1: POSIX  ADVISORY  WRITE 4242 fe:00:1234 0 EOF"; waiters ("1: -> POSIX") do not match
    private static final Pattern LINE = Pattern.compile(
            "lock:\\s+\\d+:\\s+(POSIX|OFDLCK|FLOCK)\\s+ADVISORY\\s+(READ|WRITE)\\s+\\S+\\s+\\S+\\s+(\\d+)\\s+(\\d+|EOF)\\s*");

    /**
     * @param fd the descriptor whose fdinfo the line comes from
     * @param line one line of that fdinfo
     * @return the lock the line describes, or empty if it is no held advisory lock
     *         (another kind of line, a waiter, a lease: see {@link #isLockLine})
     */
    public static Optional<FileLock> parse(int fd, String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        Kind kind = switch (m.group(1)) {
            case "POSIX" -> Kind.POSIX;
            case "OFDLCK" -> Kind.OFD;
            default -> Kind.FLOCK;
        };
        long start = Long.parseLong(m.group(3));
        long length = m.group(4).equals("EOF") ? 0 : Long.parseLong(m.group(4)) - start + 1;
        return Optional.of(new FileLock(fd, kind, m.group(2).equals("WRITE"), start, length));
    }

    /**
     * @param line a line of an fdinfo file
     * @return whether it describes a lock or lease of any kind (held or waited for)
     */
    public static boolean isLockLine(String line) {
        return line.startsWith("lock:");
    }

    /** @return e.g. "POSIX write lock on bytes 0-9 of fd 3", for messages */
    public String describe() {
        String range = kind == Kind.FLOCK ? "" : length == 0 ? " on bytes " + start + "-EOF"
                : " on bytes " + start + "-" + (start + length - 1);
        return kind + " " + (write ? "write" : "read") + " lock" + range + " of fd " + fd;
    }
}
