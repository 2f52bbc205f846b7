package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Finds the init (pid 1) of the pid namespace a process lives in, as a host pid.
 * SIGKILL to that init makes the kernel kill every process of the namespace in one
 * pass under its task-list lock: no process of the computation runs its own code
 * between a peer's death and its own, which no loop of kill(2) calls can promise.
 */
public final class PidNamespaceInit {
    /** a parent chain longer than this is not one we follow (pid reuse, a loop) */
    private static final int MAX_DEPTH = 4096;

    private final Path proc;

    /** @param proc where procfs is mounted (/proc) */
    public PidNamespaceInit(Path proc) {
        this.proc = proc;
    }

    /**
     * @param hostPid a process of the computation
     * @return the host pid of its namespace's init, or empty when it shares the
     *         coordinator's pid namespace (launched without namespaces) or is gone
     */
    public OptionalInt of(int hostPid) {
        Optional<String> ns = namespace(hostPid);
        if (ns.isEmpty() || ns.equals(namespace("self"))) {
            return OptionalInt.empty();
        }
        int pid = hostPid;
        for (int step = 0; step < MAX_DEPTH && pid > 1; step++) {
            Optional<String[]> status = status(pid);
            if (status.isEmpty() || !ns.equals(namespace(pid))) {
                return OptionalInt.empty();
            }
            if ("1".equals(status.get()[0])) {
                return OptionalInt.of(pid);
            }
            pid = Integer.parseInt(status.get()[1]);
        }
        return OptionalInt.empty();
    }

    /** @return true when {@code hostPid} is still the init of {@code member}'s namespace */
    public boolean stillInitOf(int hostPid, int member) {
        Optional<String> ns = namespace(member);
        Optional<String[]> status = status(hostPid);
        return ns.isPresent() && ns.equals(namespace(hostPid)) && status.isPresent() && "1".equals(status.get()[0]);
    }

    private Optional<String> namespace(Object pid) {
        try {
            return Optional.of(Files.readSymbolicLink(proc.resolve(pid.toString()).resolve("ns/pid")).toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /** @return {innermost pid, parent pid} from /proc/PID/status */
    private Optional<String[]> status(int pid) {
        String nsPid = null;
        String parent = null;
        try {
            for (String line : Files.readAllLines(proc.resolve(Integer.toString(pid)).resolve("status"))) {
                if (line.startsWith("NSpid:")) {
                    String[] ids = line.substring(6).trim().split("\\s+");
                    nsPid = ids[ids.length - 1];
                } else if (line.startsWith("PPid:")) {
                    parent = line.substring(5).trim();
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return nsPid == null || parent == null ? Optional.empty() : Optional.of(new String[] {nsPid, parent});
    }
}
