package org.stasis.plugin.vnc;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * X displays on this host: which display an X server process listens on (its sockets
 * in /proc), whether a display is taken by a server, and its lock file. The roots are
 * parameters so that tests can use directories of their own.
 *
 * @param proc the /proc directory
 * @param tmp the directory of the X sockets ({@code .X11-unix/X<n>}) and lock files ({@code .X<n>-lock})
 */
record XDisplays(Path proc, Path tmp) {
    private static final Pattern X_SOCKET = Pattern.compile("^@?/tmp/\\.X11-unix/X(\\d+)$");

    /** @return the X socket path of display {@code n} */
    Path socket(int n) {
        return tmp.resolve(".X11-unix").resolve("X" + n);
    }

    /** @return the lock file of display {@code n} */
    Path lock(int n) {
        return tmp.resolve(".X" + n + "-lock");
    }

    /** @return whether the process runs a VNC X server (its program is Xvnc) */
    boolean isXvnc(int hostPid) {
        List<String> argv = strings(hostPid, "cmdline");
        return !argv.isEmpty() && (argv.get(0).equals("Xvnc") || argv.get(0).endsWith("/Xvnc"));
    }

    /** @return the RFB socket a VNC X server listens on ({@code -rfbunixpath}), if any */
    Optional<String> rfbSocket(int hostPid) {
        List<String> argv = strings(hostPid, "cmdline");
        int i = argv.indexOf("-rfbunixpath");
        return i >= 0 && i + 1 < argv.size() ? Optional.of(argv.get(i + 1)) : Optional.empty();
    }

    /**
     * @return the value of variable {@code name} in the environment the process was
     *         started with, if set
     */
    Optional<String> startEnvironment(int hostPid, String name) {
        return strings(hostPid, "environ").stream().filter(v -> v.startsWith(name + "="))
                .map(v -> v.substring(name.length() + 1)).findFirst();
    }

    /** The NUL-separated strings of /proc/PID/FILE; empty if the process is gone. */
    private List<String> strings(int hostPid, String file) {
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(Integer.toString(hostPid)).resolve(file));
            List<String> result = new java.util.ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    result.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return result;
        } catch (IOException e) {
            return List.of();              // gone: not a server of ours
        }
    }

    /**
     * @param hostPid an X server process
     * @param socketInodes the inodes of the sockets it has open
     * @return the display it listens on: the name {@code /tmp/.X11-unix/X<n>} (path or
     *         abstract) of one of its sockets in its network namespace's /proc/net/unix
     */
    OptionalInt displayOf(int hostPid, Set<String> socketInodes) throws IOException {
        List<String> rows = Files.readAllLines(proc.resolve(Integer.toString(hostPid)).resolve("net").resolve("unix"));
        for (String row : rows.subList(Math.min(1, rows.size()), rows.size())) {
            String[] cells = row.trim().split("\\s+");
            if (cells.length < 8 || !socketInodes.contains(cells[6])) {
                continue;
            }
            Matcher m = X_SOCKET.matcher(cells[7]);
            if (m.matches()) {
                return OptionalInt.of(Integer.parseInt(m.group(1)));
            }
        }
        return OptionalInt.empty();
    }

    /**
     * @return what serves display {@code n} now, if anything: a server answering on its
     *         socket path, or listening on its abstract name
     */
    Optional<String> takenBy(int n) throws IOException {
        Path path = socket(n);
        if (Files.exists(path)) {
            try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                channel.connect(UnixDomainSocketAddress.of(path));
                return Optional.of("another X server answers on " + path);
            } catch (IOException e) {
                // nobody answers: the socket file of the processes that were killed
            }
        }
        String abstractName = "@/tmp/.X11-unix/X" + n;
        Path unix = proc.resolve("net").resolve("unix");
        if (Files.isReadable(unix)) {
            for (String row : Files.readAllLines(unix)) {
                String[] cells = row.trim().split("\\s+");
                if (cells.length >= 8 && cells[7].equals(abstractName)) {
                    return Optional.of("another X server listens on the abstract socket " + abstractName);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Writes display {@code n}'s lock file for the server {@code hostPid} (as X servers
     * write it: the pid in 10 columns, read-only), unless a lock file is there.
     *
     * @return whether it was written
     */
    boolean writeLock(int n, int hostPid) throws IOException {
        Path lock = lock(n);
        if (Files.exists(lock, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Path temp = Files.createTempFile(tmp, ".X" + n + "-lock.", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temp, String.format("%10d%n", hostPid));
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
            Files.move(temp, lock, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** @return what display {@code n}'s lock file holds (trimmed), if there is one */
    Optional<String> lockContent(int n) throws IOException {
        try {
            return Optional.of(Files.readString(lock(n)).trim());
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Removes display {@code n}'s lock file if it holds {@code content} (what the killed server's lock held). */
    boolean removeStaleLock(int n, String content) throws IOException {
        if (lockContent(n).filter(content::equals).isPresent()) {
            Files.delete(lock(n));
            return true;
        }
        return false;
    }
}
