package org.stasis.framework.agent;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Kills every process of a computation so that none of them sees another one die.
 * SIGKILL sent process by process leaves the survivors running for a moment: a reader
 * whose writer died first reads end-of-file, a TCP peer gets a reset, a parent reaps a
 * child, and each may print an error (or act on it) that the user never caused. So
 * every process is stopped first (SIGSTOP, in pid order, so that a parent is stopped
 * before its child can report anything to it), again for processes that appeared
 * meanwhile, and only then killed: a stopped process runs no code of its own.
 */
public final class ComputationKill {
    private static final int SIGKILL = 9;
    private static final int SIGSTOP = 19;
    /** a fork bomb must not keep the stopping loop going for ever */
    private static final int ROUNDS = 20;

    private ComputationKill() {
    }

    /**
     * @param live the computation's processes now (asked again until no new one appears)
     * @return how many processes were killed
     */
    public static int stopThenKill(Supplier<List<Agent>> live) {
        Set<Integer> stopped = new LinkedHashSet<>();
        for (int round = 0; round < ROUNDS; round++) {
            boolean fresh = false;
            for (Agent agent : live.get()) {
                if (stopped.add(agent.hostPid())) {
                    Stopped.LIBC.kill(agent.hostPid(), SIGSTOP);
                    fresh = true;
                }
            }
            if (!fresh) {
                break;
            }
        }
        for (int hostPid : stopped) {
            Stopped.LIBC.kill(hostPid, SIGKILL);
        }
        return stopped.size();
    }
}
