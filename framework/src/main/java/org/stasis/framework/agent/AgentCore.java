package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;

import org.stasis.api.OpenFd;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartPlan;
import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.dispatch.EventLogEntry;
import org.stasis.framework.lifecycle.CoreSteps;
import org.stasis.framework.lifecycle.Plan;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.ImageFile;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;
import org.stasis.framework.store.ProcessTree;
import org.stasis.framework.util.Descriptors;

/**
 * The core's own steps carried out by the agents inside the processes: suspend,
 * write images, release; and at restart, the plan handed to the restorer.
 */
public final class AgentCore implements CoreSteps {
    private static final Duration SUSPEND_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration WRITE_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration RESTORE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration RESTORER_START_TIMEOUT = Duration.ofSeconds(30);
    /** Resident memory from which images are written by copy-on-write snapshots, by default. */
    public static final long DEFAULT_SNAPSHOT_FROM = 384L << 20;

    private final AgentRegistry registry;
    private final Path agentSocket;
    private final Path planDirectory;
    private final Map<Integer, List<OpenFd>> fds = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> hostPids = new ConcurrentHashMap<>();
    private final Map<Integer, ProcessTree> trees = new ConcurrentHashMap<>();
    private final Map<Integer, Map<String, String>> sharedMemory = new ConcurrentHashMap<>();
    private volatile List<Agent> stopped = List.of();
    // released before their checkpoint was published: they hear how it ended
    private volatile List<Agent> awaitingPublish = List.of();
    // Processes whose image a snapshot child is still writing (SNAPSHOT answered
    // SNAPSHOTTING): collected after the release, by awaitImages.
    private final Map<Integer, Agent> snapshotting = new ConcurrentHashMap<>();
    // processes that were stopped (state T) and go back to that state at release
    private final java.util.Set<Integer> stopAgain = ConcurrentHashMap.newKeySet();
    // resident memory from which a process's image is written by a snapshot child
    private volatile long snapshotFrom = DEFAULT_SNAPSHOT_FROM;
    private final Map<String, Pipes.Drained> drained = new java.util.LinkedHashMap<>();
    private volatile String operationId = "";
    private final Diagnostics diagnostics;
    private volatile ProcessHands hands = new ProcessHands(List.of());
    private volatile CompletableFuture<Path> planReady = new CompletableFuture<>();
    private volatile String expectedPlan;         // the plan of the restart under way
    private volatile RestorerLink restorer;       // its supervisor, once it said hello
    private volatile ProcessHandle restorerProcess; // the process that will run it, if the caller named it
    private volatile Predicate<Agent> members = agent -> true;   // the computation of the operation
    private volatile String restartAs;            // the computation a restart continues, null: as saved
    // one of several restarts at once (AgentCore#sibling): its restored processes are the supervisor's descendants
    private final boolean concurrent;
    private final java.util.function.BiPredicate<UnixConnection, String> claim = this::restorerConnected;

    /**
     * @param registry the computation's agents
     * @param agentSocket where restored agents reconnect
     * @param planDirectory a private directory for restart plans
     * @param diagnostics where warnings about processes go (event log and coordinator log)
     */
    public AgentCore(AgentRegistry registry, Path agentSocket, Path planDirectory, Diagnostics diagnostics) {
        this(registry, agentSocket, planDirectory, diagnostics, false);
    }

    private AgentCore(AgentRegistry registry, Path agentSocket, Path planDirectory, Diagnostics diagnostics,
            boolean concurrent) {
        this.registry = registry;
        this.diagnostics = diagnostics;
        this.agentSocket = agentSocket;
        this.planDirectory = planDirectory;
        this.concurrent = concurrent;
        registry.onRestorer(claim);
    }

    /**
     * A core for one of several restarts that run at once (the parts of a computation
     * that spans hosts placed on this host): its own plan, supervisor and restored
     * processes, told apart from the others' by their supervisor. {@link #close()} it
     * when its restart ended.
     *
     * @return a core sharing this one's agents
     */
    public AgentCore sibling() {
        return new AgentCore(registry, agentSocket, planDirectory, diagnostics, true);
    }

    /**
     * Processes with less resident memory have their image written in the pause: at this
     * disk's ~1.1 GB/s that pause stays under ~0.35 s, and it spares the fork, the
     * program's copy-on-write faults and the snapshot's copying, which make the checkpoint
     * durable later.
     *
     * @param bytes 0: every image by a snapshot; Long.MAX_VALUE: none
     */
    public void snapshotFrom(long bytes) {
        snapshotFrom = bytes;
    }

    /** A sibling whose restart ended: it no longer waits for supervisors. */
    public void close() {
        registry.offRestorer(claim);
    }

    // A restart's supervisor said hello: claimed if it carries out the plan of this core's restart.
    private boolean restorerConnected(UnixConnection connection, String first) {
        String plan = expectedPlan;
        if (plan == null || !plan.equals(RestorerLink.planOf(first))) {
            return false;
        }
        restorer = RestorerLink.start(connection, first, registry::wake);
        registry.wake();
        return true;
    }

    // Of several restarts at once, a restored process is this one's if it descends from its supervisor.
    private boolean ours(Agent agent) {
        if (!concurrent) {
            return true;
        }
        RestorerLink link = restorer;
        return link != null && Descendants.of(link.pid(), agent.hostPid());
    }

    // Why the restart under way must stop, if it must: its supervisor failed, or it never came.
    private Optional<String> restartAborted(long startNanos) {
        RestorerLink link = restorer;
        if (link != null) {
            return link.failure();
        }
        ProcessHandle process = restorerProcess;
        if (process != null && !process.isAlive()) {
            return Optional.of("the restorer (pid " + process.pid() + ") ended before it connected to the"
                    + " coordinator; nothing was restored");
        }
        if (System.nanoTime() - startNanos > RESTORER_START_TIMEOUT.toNanos()) {
            return Optional.of("stasis-restore did not start within " + RESTORER_START_TIMEOUT.toSeconds() + " s");
        }
        return Optional.empty();
    }

    /**
     * Scopes the next operations to one computation: a checkpoint holds its processes
     * only, a restart's processes join it.
     *
     * @param id the computation's id
     */
    public void computation(String id) {
        this.members = agent -> id.equals(agent.computation());
        this.restartAs = id;
    }

    // A restored process that a concurrent restart has not taken yet is none of a checkpoint's.
    private List<Agent> members() {
        Predicate<Agent> scope = members;
        return registry.agents().stream().filter(scope).filter(a -> !a.restoring()).toList();
    }

    @Override
    public void suspend(String checkpointId) throws Exception {
        operationId = checkpointId;
        List<Agent> agents = members();
        if (agents.isEmpty()) {
            throw new IOException("there is no process to checkpoint; start one with: stasis launch -- PROGRAM");
        }
        fds.clear();
        stopAgain.clear();
        hostPids.clear();
        trees.clear();
        sharedMemory.clear();
        List<Agent> done = new ArrayList<>();
        StringBuilder parts = new StringBuilder();
        try {
            // Processes that fork while the checkpoint starts are registered before their
            // parent answers SUSPENDED (the agent holds fork() back meanwhile): suspend
            // them too, round after round, until no new process appeared.
            while (!agents.isEmpty()) {
                forEach(agents, agent -> {
                    String answer;
                    long t0 = System.nanoTime();
                    boolean wasStopped = Stopped.isStopped(agent.hostPid());
                    try {
                        answer = wasStopped ? agent.suspendStopped(SUSPEND_TIMEOUT)
                                : agent.request("SUSPEND", SUSPEND_TIMEOUT);
                    } catch (AgentRefusedException e) {
                        throw e;                      // it is there but cannot stop: no checkpoint
                    } catch (IOException e) {
                        if (!agent.alive()) {
                            registry.forget(agent);   // it exited meanwhile: not part of this checkpoint
                            return;
                        }
                        if (!(e instanceof java.io.InterruptedIOException)
                                && !AgentLibrary.mappedIn(agent.hostPid())) {
                            // The process lives on but its agent is gone: it exec'd a program
                            // without the agent (LD_PRELOAD cleared, static or setuid program).
                            diagnostics.warning(operationId, "suspend", "process " + agent.pid() + " ("
                                    + agent.info().command() + ") left the computation: it runs without the Stasis"
                                    + " agent and is not checkpointed");
                            registry.forget(agent);
                            return;
                        }
                        // Its agent is still in it: a checkpoint without it could not be restarted whole.
                        throw new IOException("process " + agent.pid() + " (" + agent.info().command()
                                + ") did not suspend: " + e.getMessage(), e);
                    }
                    if (!answer.startsWith("SUSPENDED")) {
                        throw new IOException("process " + agent.pid() + " did not suspend: " + answer);
                    }
                    synchronized (done) {
                        done.add(agent);
                    }
                    if (wasStopped) {
                        stopAgain.add(agent.pid());
                    }
                    long t1 = System.nanoTime();
                    Agent.Description described = agent.describe();
                    trees.put(agent.pid(), described.tree());
                    fds.put(agent.pid(), described.fds());
                    long t2 = System.nanoTime();
                    hostPids.put(agent.pid(), agent.hostPid());
                    sharedMemory.put(agent.pid(), SharedMemory.of(agent.hostPid()));
                    long t3 = System.nanoTime();
                    synchronized (parts) {
                        parts.append(String.format("process %d: suspend %.1f ms, tree, zombies and fds %.1f, maps %.1f; ",
                                agent.pid(), (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6));
                    }
                });
                List<Agent> known;
                synchronized (done) {
                    known = List.copyOf(done);
                }
                agents = members().stream().filter(a -> !known.contains(a)).toList();
            }
            // Data in flight between the processes: out of the pipes while all are stopped.
            long pipes = System.nanoTime();
            synchronized (drained) {
                drained.clear();
                Pipes.drain(done, Pipes.withFifos(fds, hostPids), drained);
            }
            diagnostics.log().add(new EventLogEntry(Instant.now(), checkpointId, "core:suspend-parts", "core", 0, "info",
                    parts + String.format("pipes %.1f ms", (System.nanoTime() - pipes) / 1e6)));
        } catch (Exception e) {
            // Never leave a process frozen because another one failed.
            refillPipes();
            stopAgainAtResume(done);
            resume(done, Outcome.ABORTED, operationId);
            throw e;
        }
        done.sort(java.util.Comparator.comparingInt(Agent::pid));
        stopped = List.copyOf(done);
        hands = new ProcessHands(stopped);
    }

    // A checkpoint holds every process of the computation or it is not published.
    private void checkAllStopped(String checkpointId) throws IOException {
        for (Agent agent : members()) {
            if (!stopped.contains(agent)) {
                throw new IOException("process " + agent.pid() + " (" + agent.info().command()
                        + ") is part of the computation but not of checkpoint " + checkpointId
                        + "; nothing was published, checkpoint again");
            }
        }
    }

    @Override
    public List<ProcessImage> writeImages(Path directory) throws Exception {
        return writeImages(directory, null, note -> {
        });
    }

    @Override
    public List<ProcessImage> writeImages(Path directory, Path parent, java.util.function.Consumer<String> notes)
            throws Exception {
        return writeImages(directory, parent, null, notes);
    }

    // The agent's COMPRESS request for the compress option, null when page data is stored as it is.
    static String compressRequest(String compress) {
        if (compress == null || !compress.startsWith("zstd")) {
            return null;
        }
        return "COMPRESS zstd " + (compress.startsWith("zstd:") ? compress.substring(5) : "1");
    }

    @Override
    public List<ProcessImage> writeImages(Path directory, Path parent, String compress,
            java.util.function.Consumer<String> notes) throws Exception {
        String compressing = compressRequest(compress);
        Map<Integer, ProcessImage> images = new ConcurrentHashMap<>();
        Map<Integer, Map<String, String>> shared = SharedMemory.sharedBetweenAreas(sharedMemory);
        long begin = System.nanoTime();
        forEach(stopped, agent -> {
            long start = System.nanoTime();
            // Full unless the agent can store only what changed since its image in parent.
            String base = agent.request("PARENT " + (parent == null ? "-" : parent.toAbsolutePath()), WRITE_TIMEOUT);
            if (parent != null && !base.equals("PARENT incremental")) {
                notes.accept("process " + agent.pid() + ": full image ("
                        + (base.startsWith("PARENT full ") ? base.substring(12) : base) + ")");
            }
            if (compressing != null) {
                // for this WRITE only: the agent stores page data as it is again afterwards
                String how = agent.request(compressing, WRITE_TIMEOUT);
                if (!how.equals("COMPRESS zstd")) {
                    throw new IOException("process " + agent.pid() + " cannot compress its image: " + how);
                }
            }
            // A copy-on-write child writes the image while the program runs on, unless the
            // agent writes it in the pause (PAUSED, with the reason). Not for a process that
            // stays stopped after the release (its agent's thread stops with it and could not
            // collect the child's image), nor for a small one (snapshotFrom).
            boolean inPause = stopAgain.contains(agent.pid()) || agent.residentBytes() < snapshotFrom;
            String verb = inPause ? "WRITE " : "SNAPSHOT ";
            String answer = agent.request(verb + directory.toAbsolutePath(), WRITE_TIMEOUT);
            String[] parts;
            if (answer.startsWith("SNAPSHOTTING ")) {
                snapshotting.put(agent.pid(), agent);
                parts = new String[] {"WRITTEN", "0", "0", answer.substring(13)};
            } else if (answer.startsWith("PAUSED ")) {
                String[] paused = answer.split(" ", 5);
                if (paused.length == 5 && !paused[1].equals("incremental")) {
                    notes.accept("process " + agent.pid() + ": image written while the program was paused ("
                            + PausedReason.describe(paused[1]) + ")");
                }
                parts = paused.length == 5 ? new String[] {"WRITTEN", paused[2], paused[3], paused[4]} : paused;
                logWritten(agent.pid(), parts[1], begin, start, "");
            } else {
                parts = answer.split(" ", 4);
                logWritten(agent.pid(), parts.length == 4 ? parts[1] : "?", begin, start, "");
            }
            if (parts.length != 4 || !parts[0].equals("WRITTEN")) {
                throw new IOException("process " + agent.pid() + " did not write its image: " + answer);
            }
            images.put(agent.pid(), new ProcessImage(agent.pid(), Path.of(parts[3]).getFileName().toString(),
                    Long.parseLong(parts[1]), Integer.parseInt(parts[2]), fds.getOrDefault(agent.pid(), List.of()),
                    trees.getOrDefault(agent.pid(), agent.tree()), shared.getOrDefault(agent.pid(), Map.of()),
                    stopAgain.contains(agent.pid())));
        });
        synchronized (drained) {
            for (Map.Entry<String, Pipes.Drained> pipe : drained.entrySet()) {
                // In the 0700 staging directory; publishing makes every file 0600.
                Files.write(directory.resolve(Pipes.dataFile(pipe.getKey(), pipe.getValue())), pipe.getValue().data());
            }
        }
        List<ProcessImage> ordered = new ArrayList<>();
        for (Agent agent : stopped) {
            ProcessImage image = images.get(agent.pid());
            if (image == null || !agent.alive()) {
                throw new IOException("process " + agent.pid() + " (" + agent.info().command()
                        + ") ended while checkpoint " + operationId + " was written; nothing was published");
            }
            ordered.add(image);
        }
        checkAllStopped(operationId);
        return ordered;
    }

    @Override
    public List<ProcessImage> awaitImages(List<ProcessImage> images) throws Exception {
        List<Agent> pending = List.copyOf(snapshotting.values());
        snapshotting.clear();
        if (pending.isEmpty()) {
            return images;
        }
        Map<Integer, String[]> written = new ConcurrentHashMap<>();
        long begin = System.nanoTime();
        forEach(pending, agent -> {
            long start = System.nanoTime();
            String answer = agent.request("COLLECT", WRITE_TIMEOUT);
            String[] parts = answer.split(" ", 4);
            if (parts.length != 4 || !parts[0].equals("WRITTEN")) {
                throw new IOException("process " + agent.pid() + " did not write its image: " + answer);
            }
            logWritten(agent.pid(), parts[1], begin, start, " (by a snapshot while the program ran)");
            written.put(agent.pid(), parts);
        });
        List<ProcessImage> done = new ArrayList<>();
        for (ProcessImage image : images) {
            String[] parts = written.get(image.pid());
            done.add(parts == null ? image : new ProcessImage(image.pid(), image.image(), Long.parseLong(parts[1]),
                    Integer.parseInt(parts[2]), image.fds(), image.tree(), image.sharedMemory(), image.stopped()));
        }
        return done;
    }

    // One event log entry per process (core:write-process): when its image was written,
    // relative to the first WRITE sent, so that `stasis events` shows whether they overlap.
    private void logWritten(int pid, String bytes, long begin, long start, String how) {
        long end = System.nanoTime();
        diagnostics.log().add(new EventLogEntry(Instant.now(), operationId, "core:write-process", "core",
                (end - start) / 1_000_000, "ok", "process " + pid + ": " + bytes + " bytes, from +"
                        + (start - begin) / 1_000_000 + " ms to +" + (end - begin) / 1_000_000 + " ms" + how));
    }

    @Override
    public void release(Outcome outcome) {
        release(outcome, false);
    }

    @Override
    public void releaseBeforePublish() {
        release(Outcome.RESUMED, true);
    }

    @Override
    public void published(boolean published) {
        List<Agent> waiting = awaitingPublish;
        awaitingPublish = List.of();
        for (Agent agent : waiting) {
            try {
                agent.request(published ? "PUBLISHED" : "UNPUBLISHED", SUSPEND_TIMEOUT);
            } catch (IOException e) {
                // It ended after it was released: nobody is left to tell.
            }
        }
    }

    private void release(Outcome outcome, boolean beforePublish) {
        if (outcome != Outcome.RESTARTED) {
            refillPipes();                    // a restart refilled them in the restorer
        }
        hands.close();
        if (!beforePublish) {
            snapshotting.clear();             // aborted: RESUME without an id ends the snapshots
        }
        stopAgainAtResume(stopped);
        resume(stopped, outcome, operationId, beforePublish);
        if (beforePublish) {
            awaitingPublish = stopped;
        }
        stopped = List.of();
        RestorerLink link = restorer;
        restorer = null;
        if (link != null) {
            link.released();                  // its processes run: the supervisor only waits now
        }
    }

    // The agent of a process that was stopped answers RESUME, then stops its process
    // before it releases the threads: the program runs on only at the next SIGCONT.
    private void stopAgainAtResume(List<Agent> agents) {
        for (Agent agent : agents) {
            if (stopAgain.remove(agent.pid())) {
                try {
                    agent.request("STOP", SUSPEND_TIMEOUT);
                } catch (IOException e) {
                    diagnostics.warning(operationId, "release", "process " + agent.pid()
                            + " was stopped and runs on after the checkpoint: " + e.getMessage());
                }
            }
        }
        stopAgain.clear();
    }

    @Override
    public org.stasis.api.ProcessAccess processes() {
        return hands;
    }

    @Override
    public List<OpenFd> openFds(int pid) {
        return fds.getOrDefault(pid, List.of());
    }

    @Override
    public Optional<byte[]> terminalSettings(int pid, int fd) {
        Integer hostPid = hostPids.get(pid);
        return hostPid == null ? Optional.empty() : Terminals.settings(hostPid, fd);
    }

    /**
     * Starts waiting for the plan of the next restart.
     *
     * @return completes with the plan file once the plugins have built it, or
     *         exceptionally if the restart fails before
     */
    public CompletableFuture<Path> expectPlan() {
        return expectPlan(0);
    }

    /**
     * Starts waiting for the plan of the next restart, carried out by a known process:
     * if it ends before its supervisor connects, the restart fails at once instead of
     * after {@link #RESTORER_START_TIMEOUT}.
     *
     * @param restorerPid the pid that will run {@code stasis-restore} (the command line
     *        execs it in place of itself); 0 if not known
     * @return as {@link #expectPlan()}
     */
    public CompletableFuture<Path> expectPlan(long restorerPid) {
        ProcessHandle process = restorerPid > 0 ? ProcessHandle.of(restorerPid).orElse(null) : null;
        if (restorerPid > 0 && process == null) {
            throw new IllegalArgumentException("the restorer's process " + restorerPid + " does not exist");
        }
        restorerProcess = process;
        if (process != null) {
            process.onExit().thenRun(registry::wake);
        }
        planReady = new CompletableFuture<>();
        return planReady;
    }

    /**
     * Fails the restart that is waiting for a plan.
     *
     * @param failure why
     */
    public void planFailed(Throwable failure) {
        planReady.completeExceptionally(failure);
    }

    @Override
    public void validate(Manifest manifest, Path directory) throws CheckpointInvalidException {
        for (ProcessImage image : manifest.images()) {
            Path file = directory.resolve(image.image());
            if (!Files.isRegularFile(file)) {
                throw new CheckpointInvalidException("checkpoint " + manifest.id() + " is incomplete: " + file
                        + " is missing");
            }
            ImageFile.check(file, false);
        }
    }

    @Override
    public void restore(Manifest manifest, Path directory, Plan plan) throws Exception {
        List<ProcessImage> images = manifest.images();
        boolean samePid = plan.pidStrategy() == RestartPlan.PidStrategy.KEEP_PIDS;
        if (images.size() > 1 && !samePid) {
            throw new IOException("checkpoint " + manifest.id() + " holds " + images.size()
                    + " processes; a process tree restarts only with its original pids (pid namespaces)");
        }
        boolean zombies = images.stream().anyMatch(i -> i.tree() != null && !i.tree().exitedChildren().isEmpty());
        if (zombies && !samePid) {
            // the exited children cannot be recreated: the waitpid for them will fail
            diagnostics.warning(manifest.id() + "-restart", "restore",
                    "restarting without pid namespaces: exited, unreaped children are not recreated");
        }
        operationId = manifest.id();
        Map<Integer, List<OpenFd>> savedFds = new java.util.TreeMap<>();
        images.forEach(image -> savedFds.put(image.pid(), image.fds() == null ? List.of() : image.fds()));
        Map<String, List<Pipes.End>> pipes = Pipes.internal(savedFds);
        List<String> pipeData = new ArrayList<>();
        for (String ino : pipes.keySet()) {
            Path data = directory.resolve(Pipes.dataFile(ino));
            if (Files.isRegularFile(data)) {
                pipeData.add("pipe " + ino + " " + data.toAbsolutePath());
            }
        }
        List<RestartPlanFile.Member> members = new ArrayList<>();
        for (ProcessImage image : images) {
            Path imageFile = directory.resolve(image.image());   // checked by validate() before any plugin ran
            Map<Integer, String> pipeFds = new java.util.TreeMap<>();
            pipes.forEach((ino, ends) -> ends.stream().filter(e -> e.pid() == image.pid()).forEach(e ->
                    pipeFds.put(e.fd().fd(), "fd " + e.fd().fd() + " pipe " + ino + " " + (e.writes() ? "w" : "r")
                            + " " + Integer.toOctalString(e.fd().flags()))));
            members.add(new RestartPlanFile.Member(plan.process(image.pid()), imageFile, image.tree(), pipeFds,
                    image.sharedMemory()));
        }

        Path planFile = planDirectory.resolve(manifest.id() + "-" + ProcessHandle.current().pid() + "-"
                + System.nanoTime() + ".plan");
        RestartPlanFile.write(plan, members, pipeData, agentSocket, planFile);
        List<Agent> before = registry.agents();
        restorer = null;
        expectedPlan = planFile.toRealPath().toString();
        long start = System.nanoTime();
        planReady.complete(planFile);
        try {
            // Every process of the tree must be back before any runs again: they are
            // released together by the resume step. The restart's supervisor reports a
            // process that cannot be restored at once (it kills the others).
            List<Agent> restored = new ArrayList<>();
            for (ProcessImage image : images) {
                Duration left = RESTORE_TIMEOUT.minusNanos(System.nanoTime() - start);
                Agent agent = registry.await(a -> a.restored() && !before.contains(a) && !restored.contains(a)
                        && (!samePid || a.pid() == image.pid()) && ours(a), left.isNegative() ? Duration.ZERO : left,
                        () -> restartAborted(start));
                manifest.processes().stream().filter(p -> p.pid() == image.pid()).findFirst()
                        .ifPresent(p -> agent.describeAs(p.command()));
                restored.add(agent);
            }
            stopAgain.clear();
            for (int i = 0; i < images.size(); i++) {
                if (images.get(i).stopped()) {
                    stopAgain.add(restored.get(i).pid());     // brought back stopped at release
                }
            }
            try {
                installPassed(plan, restored);
                takeLocks(plan, restored);
                moveTo(restartAs, restored);
                restored.forEach(Agent::joined);
            } catch (IOException e) {
                // all or none: the restored processes must not stay behind, suspended
                restored.forEach(a -> ProcessHandle.of(a.hostPid()).ifPresent(ProcessHandle::destroyForcibly));
                throw e;
            }
            Pipes.refillFifos(directory, restored, diagnostics, manifest.id() + "-restart");
            stopped = List.copyOf(restored);
            hands = new ProcessHands(stopped);
        } catch (Exception e) {
            // All or nothing: the supervisor kills every process of the restart.
            RestorerLink link = restorer;
            restorer = null;
            if (link != null && link.failure().isEmpty()) {
                link.abort(String.valueOf(e.getMessage()));
            }
            throw e;
        } finally {
            expectedPlan = null;
            restorerProcess = null;
            Files.deleteIfExists(planFile);
        }
    }

    // A restarted computation whose id is taken goes on under another one (Computations.adopt).
    private static void moveTo(String id, List<Agent> restored) throws IOException {
        for (Agent agent : restored) {
            if (id != null && !id.equals(agent.computation())) {
                agent.moveTo(id);
            }
        }
    }

    // Descriptors plugins made in the coordinator go in once the processes exist again.
    private static void installPassed(Plan plan, List<Agent> restored) throws IOException {
        for (Agent agent : restored) {
            for (Map.Entry<Integer, org.stasis.api.FdSource> fd : plan.process(agent.pid()).fds().entrySet()) {
                if (fd.getValue() instanceof org.stasis.api.FdSource.Passed passed) {
                    agent.take(fd.getKey(), passed.descriptor(), passed.flags());
                }
            }
        }
    }

    // POSIX locks belong to the process: only it can take them again, once its fds are in.
    private static void takeLocks(Plan plan, List<Agent> restored) throws IOException {
        for (Agent agent : restored) {
            for (org.stasis.api.FileLock lock : plan.process(agent.pid()).locks()) {
                agent.lock(lock);
            }
        }
    }

    private void refillPipes() {
        synchronized (drained) {
            Pipes.refill(drained, diagnostics, operationId);
            drained.clear();
        }
    }

    // The id tells the program which checkpoint it resumed after or was restarted from;
    // after an aborted checkpoint there is none.
    private void resume(List<Agent> agents, Outcome outcome, String checkpointId) {
        resume(agents, outcome, checkpointId, false);
    }

    // "pending": the checkpoint is written, not yet published; PUBLISHED or UNPUBLISHED
    // follows, and a thread of the program that asked for it waits for that.
    private void resume(List<Agent> agents, Outcome outcome, String checkpointId, boolean pending) {
        String request = (outcome == Outcome.RESTARTED ? "RESUME 1" : "RESUME 0")
                + (outcome == Outcome.ABORTED ? "" : " " + checkpointId) + (pending ? " pending" : "");
        for (Agent agent : agents) {
            try {
                agent.request(request, SUSPEND_TIMEOUT);
            } catch (IOException e) {
                diagnostics.warning(checkpointId == null || checkpointId.isEmpty() ? Diagnostics.COORDINATOR : checkpointId,
                        "release",
                        "process " + agent.pid() + " did not resume: " + e.getMessage());
            }
        }
    }

    @FunctionalInterface
    private interface AgentTask {
        void run(Agent agent) throws Exception;
    }

    // One thread per process: a barrier over all of them, first failure wins.
    private static void forEach(List<Agent> agents, AgentTask task) throws Exception {
        List<CompletableFuture<Void>> tasks = new ArrayList<>();
        for (Agent agent : agents) {
            tasks.add(CompletableFuture.runAsync(() -> {
                try {
                    task.run(agent);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, r -> {
                Thread thread = new Thread(r, "stasis-agent-" + agent.pid());
                thread.setDaemon(true);
                thread.start();
            }));
        }
        try {
            CompletableFuture.allOf(tasks.toArray(CompletableFuture[]::new)).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c ? c.getCause() : e.getCause();
            throw cause instanceof Exception ex ? ex : new IOException(cause);
        }
    }
}
