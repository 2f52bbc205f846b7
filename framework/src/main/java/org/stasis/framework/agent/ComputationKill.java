package org.stasis.framework.agent;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Kills every process of a computation so that none of them sees another one die.
 * Killed one by one with pauses between (as before), the survivors ran on for a moment:
 * a reader whose writer died first read end-of-file, a TCP peer got a reset, and each
 * printed an error the user never caused. Stopping them all first (SIGSTOP) is visible
 * too: a program that reads its pending signals saw the SIGSTOP. So SIGKILL goes to every
 * process in one tight loop, children before parents (highest pid first): a process
 * notices a peer's death only once that peer has torn down its memory and closed its
 * descriptors, long after the loop has sent SIGKILL to everyone, and a process with
 * SIGKILL pending never runs its own code again. Newcomers (forked meanwhile) are
 * killed in further rounds.
 */
public final class ComputationKill {
    private static final int SIGKILL = 9;
    /** a fork bomb must not keep the loop going for ever */
    private static final int ROUNDS = 20;

    private ComputationKill() {
    }

    /**
     * @param live the computation's processes now (asked again until no new one appears)
     * @return how many processes were killed
     */
    public static int killAll(Supplier<List<Agent>> live) {
        Set<Integer> killed = new LinkedHashSet<>();
        for (int round = 0; round < ROUNDS; round++) {
            List<Agent> now = new ArrayList<>(live.get());
            now.sort(Comparator.comparingInt(Agent::pid).reversed());
            int[] targets = now.stream().mapToInt(Agent::hostPid).filter(killed::add).toArray();
            if (targets.length == 0) {
                break;
            }
            for (int hostPid : targets) {
                Stopped.LIBC.kill(hostPid, SIGKILL);
            }
        }
        return killed.size();
    }
}
