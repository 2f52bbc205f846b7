package org.stasis.framework.agent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Kills every process of a computation so that none of them sees another one die.
 * Killed one by one, the survivors ran on for a moment: a writer whose reader died first
 * got EPIPE, a TCP peer got a reset, and each printed an error the user never caused.
 * Stopping them all first (SIGSTOP) is visible too: a program that reads its pending
 * signals saw the SIGSTOP. A computation in its own pid namespace (the default) dies by
 * SIGKILL to the namespace's init: the kernel then kills every process of it in one
 * pass. Processes outside such a namespace (namespaces off) get SIGKILL in a tight loop,
 * children before parents, with further rounds for newcomers forked meanwhile.
 */
public final class ComputationKill {
    private static final int SIGKILL = 9;
    private static final int SIGSTOP = 19;
    /** a fork bomb must not keep the loop going for ever */
    private static final int ROUNDS = 20;

    private ComputationKill() {
    }

    /**
     * Stops every process (SIGSTOP) before {@link #killAll}, while something else that would
     * make them react (their peers on other hosts dying) happens first.
     *
     * @param processes the computation's processes
     */
    public static void freeze(List<Agent> processes) {
        processes.forEach(agent -> Stopped.LIBC.kill(agent.hostPid(), SIGSTOP));
    }

    /**
     * {@link #killAll(Supplier, PidNamespaceInit)} with this machine's /proc.
     *
     * @param live the computation's processes now (asked again until no new one appears)
     * @return how many processes were killed
     */
    public static int killAll(Supplier<List<Agent>> live) {
        return killAll(live, new PidNamespaceInit(Path.of("/proc")));
    }

    /**
     * @param live the computation's processes now (asked again until no new one appears)
     * @param inits finds the pid namespace init of a process
     * @return how many processes were killed
     */
    public static int killAll(Supplier<List<Agent>> live, PidNamespaceInit inits) {
        Set<Integer> killed = new LinkedHashSet<>();
        List<Agent> first = live.get();
        Set<Integer> namespaceInits = new LinkedHashSet<>();
        for (Agent agent : first) {
            inits.of(agent.hostPid()).ifPresent(init -> {
                if (namespaceInits.add(init) && inits.stillInitOf(init, agent.hostPid())) {
                    Stopped.LIBC.kill(init, SIGKILL);
                }
            });
        }
        for (int round = 0; round < ROUNDS; round++) {
            List<Agent> now = new ArrayList<>(round == 0 ? first : live.get());
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
