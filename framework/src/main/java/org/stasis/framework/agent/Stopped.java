package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Processes stopped by SIGSTOP or SIGTSTP (state T): their checkpoint thread cannot run
 * either. Before the coordinator continues one for its checkpoint, it queues the
 * agent's suspend signal with the agent's hold cookie to each of its threads, so that
 * every thread enters the agent's handler, and waits there for the suspend, before it
 * runs any code of the program once continued (doc/agent-protocol.md, STOP). Its parent
 * may still notice: waitpid(WCONTINUED) reports it continued, then stopped again.
 */
final class Stopped {
    private static final int SIGCONT = 18;
    private static final int SUSPEND_SIGNAL = 62;           // the agent's STASIS_SUSPEND_SIG
    private static final int SI_QUEUE = -1;
    private static final long SYS_RT_TGSIGQUEUEINFO = 297;  // x86-64
    private static final String CHECKPOINT_THREAD = "stasis-ckpt";
    /** the agent's relay (its coordinator connection): not a program thread either */
    private static final String RELAY_THREAD = "stasis-relay";

    /** The two system calls the JDK does not offer. */
    interface Signals extends Library {
        int kill(int pid, int signal);

        long syscall(long number, int tgid, int tid, int signal, Pointer info);
    }

    static final Signals LIBC = Native.load("c", Signals.class);

    private Stopped() {
    }

    /**
     * @param hostPid a process as the coordinator sees it
     * @return whether it is stopped by a signal (not by a tracer)
     */
    static boolean isStopped(int hostPid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(hostPid), "stat"));
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) == 'T';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Holds every thread of a stopped process but the agent's (checkpoint thread, relay), then continues it.
     *
     * @param hostPid the process
     * @param cookie the agent's hold cookie (HELLO hold=)
     * @throws IOException if a thread cannot be held or the process not continued
     */
    static void holdAndContinue(int hostPid, long cookie) throws IOException {
        Memory info = new Memory(128);
        info.clear();
        info.setInt(0, SUSPEND_SIGNAL);
        info.setInt(8, SI_QUEUE);
        info.setInt(16, (int) ProcessHandle.current().pid());
        info.setLong(24, cookie);
        for (int tid : programThreads(hostPid)) {
            if (LIBC.syscall(SYS_RT_TGSIGQUEUEINFO, hostPid, tid, SUSPEND_SIGNAL, info) != 0) {
                throw new IOException("cannot hold thread " + tid + " of stopped process " + hostPid
                        + " (errno " + Native.getLastError() + ")");
            }
        }
        if (LIBC.kill(hostPid, SIGCONT) != 0) {
            throw new IOException("cannot continue stopped process " + hostPid + " (errno " + Native.getLastError() + ")");
        }
    }

    private static List<Integer> programThreads(int hostPid) throws IOException {
        List<Integer> tids = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", Integer.toString(hostPid), "task"))) {
            for (Path task : tasks.toList()) {
                String name;
                try {
                    name = Files.readString(task.resolve("comm")).strip();
                } catch (IOException e) {
                    continue;                 // the thread ended meanwhile
                }
                if (!name.equals(CHECKPOINT_THREAD) && !name.equals(RELAY_THREAD)) {
                    tids.add(Integer.parseInt(task.getFileName().toString()));
                }
            }
        }
        return tids;
    }
}
