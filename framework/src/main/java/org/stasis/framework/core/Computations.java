package org.stasis.framework.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.stasis.framework.agent.Agent;

/**
 * The computations of one coordinator: every launch is its own computation with a
 * short id ({@code c1}, {@code c2}, ...), never handed out twice by a coordinator and
 * never one that already has checkpoints in the checkpoint directory. A process
 * belongs to the computation its agent names (HELLO {@code comp=}); a restart
 * continues the checkpoint's computation under the same id unless that id is running.
 */
public final class Computations {
    /** What a computation id may look like (the agent takes the same). */
    public static final Pattern ID = org.stasis.framework.store.ComputationIds.ID;
    /** Ids ordered as people count: c2 before c10. */
    public static final Comparator<String> ORDER = org.stasis.framework.store.ComputationIds.ORDER;
    private static final Pattern NUMBERED = Pattern.compile("c(\\d{1,9})");

    private final Supplier<List<Agent>> agents;
    private final Set<String> handedOut = new HashSet<>();
    private final Set<String> restarting = new HashSet<>();   // adopted by restarts under way
    private final Map<String, String> commands = new ConcurrentHashMap<>();
    private int next = 1;

    /** @param agents the coordinator's live agents */
    public Computations(Supplier<List<Agent>> agents) {
        this.agents = agents;
    }

    /**
     * @param checkpoints the checkpoint directory (an id with checkpoints there is not new)
     * @return a new computation id for a launch
     */
    public synchronized String reserve(Path checkpoints) {
        Set<String> running = running();
        while (true) {
            String id = "c" + next++;
            if (!handedOut.contains(id) && !running.contains(id) && !Files.exists(checkpoints.resolve(id))) {
                handedOut.add(id);
                return id;
            }
        }
    }

    /**
     * The id a restarted computation continues under: its own unless that one is
     * running, then a new one.
     *
     * @param wanted the checkpoint's computation id, null for a checkpoint without one
     * @param command the computation's command line
     * @param checkpoints the checkpoint directory
     * @return the id
     */
    public synchronized String adopt(String wanted, String command, Path checkpoints) {
        String id;
        if (wanted != null && ID.matcher(wanted).matches() && !running().contains(wanted)
                && !restarting.contains(wanted) && !Agent.NO_COMPUTATION.equals(wanted)) {
            id = wanted;
            handedOut.add(id);
            Matcher numbered = NUMBERED.matcher(id);
            if (numbered.matches()) {
                next = Math.max(next, Integer.parseInt(numbered.group(1)) + 1);
            }
        } else {
            id = reserve(checkpoints);
        }
        if (command != null) {
            commands.put(id, command);
        }
        restarting.add(id);
        return id;
    }

    /**
     * A restart that adopted an id ended (its processes run under it, or it failed):
     * until then no other restart at once takes the same id.
     *
     * @param id as {@link #adopt} returned
     */
    public synchronized void settled(String id) {
        restarting.remove(id);
    }

    /** @return the ids of the computations that have live processes, in order */
    public Set<String> running() {
        return agents.get().stream().map(Agent::computation)
                .collect(Collectors.toCollection(() -> new TreeSet<>(ORDER)));
    }

    /**
     * A restored process that its restart has not taken yet ({@link Agent#restoring}) is
     * none of them: it still names the computation it was checkpointed in, which may run
     * on (fast/slow's checkers are restarts of the fast run's checkpoints), and a
     * checkpoint of that one must not list it.
     *
     * @param id a computation id
     * @return its live processes, parents before children
     */
    public List<Agent> agents(String id) {
        return agents.get().stream().filter(a -> a.computation().equals(id) && !a.restoring())
                .collect(Collectors.toList());
    }

    /**
     * @param id a computation id
     * @return the command line of its first process (lowest pid), or the last one known
     */
    public String command(String id) {
        List<Agent> members = agents(id);
        if (members.isEmpty()) {
            return commands.getOrDefault(id, "");
        }
        String command = members.get(0).info().command();     // the root: it may have exec'd since
        commands.put(id, command);
        return command;
    }
}
