package org.stasis.framework.util;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes what dead coordinators (killed with SIGKILL, say) left in the runtime
 * directory: a socket ({@code N.sock}, {@code N.agent.sock}) that refuses connections
 * has nobody listening; a restart plan ({@code ID-PID-T.plan}) whose coordinator pid
 * no longer runs as this user. A live coordinator's files are never touched. Logs and
 * tokens stay (the log says why it died; the token is the TCP clients' secret).
 */
public final class StaleFiles {
    private static final Pattern PLAN = Pattern.compile(".*-(\\d{1,10})-\\d+\\.plan");

    private StaleFiles() {
    }

    /**
     * @param directory the runtime directory
     * @return the files removed
     * @throws IOException if the directory cannot be read
     */
    public static List<Path> sweep(Path directory) throws IOException {
        List<Path> removed = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                if (isStale(file.getFileName().toString(), file) && removeIfSame(file)) {
                    removed.add(file);
                }
            }
        }
        return removed;
    }

    private static boolean isStale(String name, Path file) {
        if (name.endsWith(".sock")) {
            return isSocket(file) && refuses(file);
        }
        Matcher plan = PLAN.matcher(name);
        return plan.matches() && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                && !runsAsMe(Long.parseLong(plan.group(1)));
    }

    private static boolean isSocket(Path file) {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    // ECONNREFUSED on a Unix socket: its file is there, nobody listens on it.
    private static boolean refuses(Path socket) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;    // busy, or no permission: not known to be dead
        }
    }

    private static boolean runsAsMe(long pid) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isEmpty() || !process.get().isAlive()) {
            return false;
        }
        Optional<String> user = process.get().info().user();
        return user.isEmpty() || user.get().equals(System.getProperty("user.name"));
    }

    // The file checked is the one removed: not a new coordinator's that just replaced it.
    private static boolean removeIfSame(Path file) {
        try {
            Object before = Files.readAttributes(file, "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino");
            if (file.getFileName().toString().endsWith(".sock") && !refuses(file)) {
                return false;
            }
            Object now = Files.readAttributes(file, "unix:ino", LinkOption.NOFOLLOW_LINKS).get("ino");
            return before.equals(now) && Files.deleteIfExists(file);
        } catch (IOException e) {
            return false;
        }
    }
}
