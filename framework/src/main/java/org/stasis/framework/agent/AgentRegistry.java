package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import org.stasis.framework.dispatch.Diagnostics;

/**
 * The processes of the computation: every agent that connected to the coordinator's
 * agent socket and whose process still lives. Only the coordinator's own user may
 * join (the socket is 0600 in a 0700 directory, and each peer's uid is checked).
 */
public final class AgentRegistry implements AutoCloseable {
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);

    private final UnixServer server;
    private final int uid;
    private final Diagnostics diagnostics;
    private final List<Agent> agents = new ArrayList<>();
    private volatile Consumer<CheckpointRequest> checkpointRequests;
    // restarts waiting for their supervisor: each claims the one that carries out its plan
    private final List<java.util.function.BiPredicate<UnixConnection, String>> restorers =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param socket where agents connect
     * @param uid the only user allowed in
     * @param diagnostics where refused agents are reported
     * @throws IOException if the socket cannot be opened
     */
    public AgentRegistry(Path socket, int uid, Diagnostics diagnostics) throws IOException {
        this.server = new UnixServer(socket);
        this.uid = uid;
        this.diagnostics = diagnostics;
        Thread acceptor = new Thread(this::acceptLoop, "stasis-agent-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (true) {
            UnixConnection connection;
            try {
                connection = server.accept();
            } catch (IOException e) {
                return;
            }
            if (connection.peerUid() != uid) {
                diagnostics.warning(Diagnostics.COORDINATOR, "agent", "refused an agent of uid " + connection.peerUid()
                        + ": only processes of the coordinator's user join its computations");
                connection.close();
                continue;
            }
            Thread handshake = new Thread(() -> register(connection), "stasis-agent-hello");
            handshake.setDaemon(true);
            handshake.start();
        }
    }

    private void register(UnixConnection connection) {
        try {
            String first = connection.readLine(Duration.ofSeconds(10));
            if (first.startsWith("REQUEST checkpoint")) {
                requested(connection, first);
                return;
            }
            if (first.startsWith("RESTORER ")) {
                for (java.util.function.BiPredicate<UnixConnection, String> claim : restorers) {
                    if (claim.test(connection, first)) {
                        return;
                    }
                }
                // a stray supervisor (an old plan run again): nobody would ever release its processes
                RestorerLink.start(connection, first, () -> {
                }).abort("no restart of this coordinator waits for this plan; start restarts with: stasis restart"
                        + " CHECKPOINT");
                return;
            }
            Agent agent = Agent.handshake(connection, first);
            synchronized (this) {
                // A child made by fork() waits for this PING: its parent's fork() returns
                // only once the child is registered, so a checkpoint that suspends the
                // parent afterwards also finds the child (doc/agent-protocol.md).
                if (agent.joinedByFork() && !"PONG".equals(agent.request("PING", JOIN_TIMEOUT))) {
                    throw new IOException("a forked process did not confirm its registration");
                }
                // Each registration has its own handshake thread: after `env` exec'd `sh` exec'd
                // `python3`, sh's registration may come through after python3's. A connection
                // whose peer already hung up is such a late one (the image that made it is
                // gone); it must not replace the live agent, whose connection would be closed.
                if (connection.peerClosed()) {
                    diagnostics.info(Diagnostics.COORDINATOR, "agent", "process " + agent.pid()
                            + " registered again after an exec before its earlier registration came through;"
                            + " the earlier one is ignored");
                    connection.close();
                    return;
                }
                // After an exec the same process connects again; its old connection is dead.
                agents.removeIf(old -> {
                    if (old.hostPid() == agent.hostPid()) {
                        old.close();
                        return true;
                    }
                    return false;
                });
                agents.add(agent);
                notifyAll();
            }
        } catch (IOException e) {
            connection.close();
        }
    }

    // A program asked for a checkpoint of its computation (stasis.checkpoint() and friends).
    private void requested(UnixConnection connection, String line) throws IOException {
        Consumer<CheckpointRequest> listener = checkpointRequests;
        try (connection) {
            if (listener == null) {
                connection.writeLine("ERROR this coordinator does not take checkpoint requests");
                return;
            }
            connection.writeLine("ACCEPTED");
        }
        listener.accept(CheckpointRequest.parse(connection.peerPid(), line));
    }

    /**
     * @param listener called whenever a program asks for a checkpoint; it must
     *        eventually checkpoint (or at least resume) the computation, or decline the
     *        request ({@link Agent#decline}), because the requesting thread waits for that
     */
    public void onCheckpointRequest(Consumer<CheckpointRequest> listener) {
        this.checkpointRequests = listener;
    }

    /** @return the live agents, parents before children (by pid) */
    public synchronized List<Agent> agents() {
        agents.removeIf(a -> {
            if (!a.alive()) {
                a.close();
                return true;
            }
            return false;
        });
        return agents.stream().sorted(Comparator.comparingInt(Agent::pid)).collect(Collectors.toList());
    }

    /**
     * @param listener gets the connection and first line of every restart's supervisor
     *        ({@code stasis-restore}) that connects, and says whether it is the one it waits for
     */
    void onRestorer(java.util.function.BiPredicate<UnixConnection, String> listener) {
        restorers.add(listener);
    }

    /** @param listener no longer claims supervisors */
    void offRestorer(java.util.function.BiPredicate<UnixConnection, String> listener) {
        restorers.remove(listener);
    }

    /** Wakes the threads waiting in {@link #await} (to look at their abort condition). */
    public synchronized void wake() {
        notifyAll();
    }

    /**
     * Waits for an agent to connect.
     *
     * @param wanted which agent
     * @param timeout how long to wait
     * @return the agent
     * @throws IOException if none came in time
     */
    public Agent await(Predicate<Agent> wanted, Duration timeout) throws IOException {
        return await(wanted, timeout, () -> java.util.Optional.empty());
    }

    /**
     * Waits for an agent to connect unless the wait is aborted.
     *
     * @param wanted which agent
     * @param timeout how long to wait
     * @param abort checked whenever something changes ({@link #wake}): a reason ends the wait
     * @return the agent
     * @throws IOException if none came in time, or with the abort's reason
     */
    public synchronized Agent await(Predicate<Agent> wanted, Duration timeout,
            java.util.function.Supplier<java.util.Optional<String>> abort) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            java.util.Optional<String> why = abort.get();
            if (why.isPresent()) {
                throw new IOException(why.get());
            }
            for (Agent agent : agents) {
                if (wanted.test(agent)) {
                    return agent;
                }
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new IOException("no restored process connected within " + timeout.toSeconds() + " s");
            }
            try {
                wait(Math.min(left, 1000));       // the abort condition may change with time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for a restored process", e);
            }
        }
    }

    /**
     * Forgets an agent (its process is being killed or left unmanaged).
     *
     * @param agent the agent
     */
    public synchronized void forget(Agent agent) {
        agents.remove(agent);
        agent.close();
    }

    @Override
    public synchronized void close() {
        server.close();
        agents.forEach(Agent::close);
        agents.clear();
    }
}
