package org.stasis.plugin.file;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.stasis.api.CheckpointContext;
import org.stasis.api.FileLock;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartContext;

/**
 * File locks (fcntl record locks, OFD locks, flocks) the processes hold: read from the
 * kernel's fdinfo at checkpoint, taken again inside each restored process at restart.
 * A lease or any lock line the kernel prints that is not one of those refuses the
 * checkpoint with a message that names it.
 */
final class Locks {
    private static final String LOCKS = "locks.";

    private Locks() {
    }

    /**
     * Records the locks held through one descriptor.
     *
     * @throws IOException if the descriptor holds a lock that cannot be taken again
     */
    static void save(CheckpointContext context, ProcessInfo process, OpenFd fd) throws IOException {
        List<String> saved = new ArrayList<>();
        for (String line : context.processes().fdInfo(process.pid(), fd.fd())) {
            if (!FileLock.isLockLine(line)) {
                continue;
            }
            FileLock lock = FileLock.parse(fd.fd(), line).orElseThrow(() -> new IOException("process " + process.pid()
                    + " holds a lock the restart cannot take again on fd " + fd.fd() + " (" + fd.target() + "): '"
                    + line.trim() + "'; release it (leases are not supported) before checkpointing"));
            saved.add(encode(lock));
        }
        if (!saved.isEmpty()) {
            context.records().put(LOCKS + process.pid() + "." + fd.fd(), String.join(";", saved));
        }
    }

    /** Adds every recorded lock to the restart plan of its process. */
    static void restore(RestartContext context) {
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            if (!record.getKey().startsWith(LOCKS)) {
                continue;
            }
            String key = record.getKey().substring(LOCKS.length());
            int pid = Integer.parseInt(key.substring(0, key.indexOf('.')));
            int fd = Integer.parseInt(key.substring(key.indexOf('.') + 1));
            for (String lock : record.getValue().split(";")) {
                context.plan().process(pid).lock(decode(fd, lock));
            }
        }
    }

    static String encode(FileLock lock) {
        return lock.kind() + " " + (lock.write() ? "w" : "r") + " " + lock.start() + " " + lock.length();
    }

    static FileLock decode(int fd, String text) {
        String[] parts = text.split(" ");
        return new FileLock(fd, FileLock.Kind.valueOf(parts[0]), parts[1].equals("w"), Long.parseLong(parts[2]),
                Long.parseLong(parts[3]));
    }
}
