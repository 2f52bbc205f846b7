package org.stasis.plugin.file;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;

/**
 * Descriptors that share one open file description (made by dup or inherited over
 * fork): they share one offset, so restoring them as separate opens would let the
 * processes overwrite each other's output (stdout and stderr of {@code prog > log 2>&1}).
 */
final class SharedDescriptions {
    private static final int O_CLOEXEC = 02000000;

    /** A descriptor of a process, {@code <pid>.<fd>} in records. */
    record Holder(int pid, OpenFd fd) {
        String key() {
            return pid + "." + fd.fd();
        }
    }

    private SharedDescriptions() {
    }

    /**
     * Groups descriptors by open file description. Only descriptors of one path with
     * the same status flags and offset can share one, so few are compared.
     *
     * @param holders the descriptors
     * @param processes the core's access to the processes
     * @return every holder that shares its description with an earlier one: its key to the first holder's key
     * @throws IOException if the processes cannot be compared
     */
    static Map<String, String> group(List<Holder> holders, ProcessAccess processes) throws IOException {
        List<Holder> firsts = new ArrayList<>();
        Map<String, String> shared = new LinkedHashMap<>();
        for (Holder holder : holders) {
            Holder first = null;
            for (Holder candidate : firsts) {
                if (alike(candidate.fd(), holder.fd()) && processes.sameOpenFile(candidate.pid(), candidate.fd().fd(),
                        holder.pid(), holder.fd().fd())) {
                    first = candidate;
                    break;
                }
            }
            if (first == null) {
                firsts.add(holder);
            } else {
                shared.put(holder.key(), first.key());
            }
        }
        return shared;
    }

    private static boolean alike(OpenFd a, OpenFd b) {
        return a.target().equals(b.target()) && (a.flags() & ~O_CLOEXEC) == (b.flags() & ~O_CLOEXEC)
                && a.offset() == b.offset();
    }
}
