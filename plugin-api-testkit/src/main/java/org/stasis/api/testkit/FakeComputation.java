package org.stasis.api.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.stasis.api.CheckpointContext;
import org.stasis.api.Computation;
import org.stasis.api.EventContext;
import org.stasis.api.FdSource;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.OpenFd;
import org.stasis.api.PluginRecords;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeContext;

/**
 * The core as a plugin sees it, played by the test JVM. Each process of the computation
 * is a set of the JVM's own descriptors at the same numbers (pipes, files, sockets the
 * test made), so the plugin works on real kernel objects:
 * {@link ProcessAccess#duplicate} dups them, {@link ProcessAccess#fdInfo} reads their
 * fdinfo, {@link ProcessAccess#install} dup3s over them. After a restart the restored
 * processes' descriptors are what the plan installed with {@link FdSource.Passed}.
 *
 * <pre>{@code
 * try (FakeComputation computation = new FakeComputation(temp)) {
 *     int[] pipe = computation.descriptors().pipe();
 *     computation.process(1, pipe[0]).process(2, pipe[1]);
 *     plugin.drain(computation.checkpoint(LifecycleEvent.DRAIN));
 *     plugin.write(computation.checkpoint());
 *     plugin.resume(computation.resume(ResumeContext.Outcome.RESUMED));
 *     computation.endOperation();     // drops the operation store, as the core does
 *     plugin.restart(computation.restart());
 *     int restored = computation.passed(1, pipe[0]);
 * }
 * }</pre>
 */
public final class FakeComputation implements AutoCloseable {
    private final Descriptors descriptors;
    private final boolean ownsDescriptors;
    private final Path directory;
    private final Map<Integer, List<Integer>> processes = new LinkedHashMap<>();
    private final Map<String, Integer> duplicates = new HashMap<>();
    private final Map<String, String> records = new LinkedHashMap<>();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final List<String> epollAdds = new ArrayList<>();
    private final List<String> installs = new ArrayList<>();
    private final FakePlan plan = new FakePlan(processes.keySet());
    private static final String NAME = "test";
    private FakeStore store = new FakeStore();
    private String checkpointId = "test-1";
    private long generation = 1;
    private String partName;
    private FakeParts parts;

    /**
     * @param descriptors where duplicates are made and tracked (the test closes it)
     * @param pluginDirectory the plugin's directory inside the checkpoint
     */
    public FakeComputation(Descriptors descriptors, Path pluginDirectory) {
        this(descriptors, false, pluginDirectory);
    }

    /**
     * With descriptors of its own, closed by {@link #close()}.
     *
     * @param pluginDirectory the plugin's directory inside the checkpoint
     */
    public FakeComputation(Path pluginDirectory) {
        this(new Descriptors(), true, pluginDirectory);
    }

    private FakeComputation(Descriptors descriptors, boolean owns, Path pluginDirectory) {
        this.descriptors = descriptors;
        this.ownsDescriptors = owns;
        this.directory = pluginDirectory;
    }

    /** @return the descriptors this computation dups into and tracks */
    public Descriptors descriptors() {
        return descriptors;
    }

    /**
     * Adds a process (or more descriptors to it). The first process added is the root,
     * the others its children.
     *
     * @param pid its pid inside the computation
     * @param fds descriptors of the test JVM that stand for the process's, at the same numbers
     * @return this
     */
    public FakeComputation process(int pid, int... fds) {
        List<Integer> list = processes.computeIfAbsent(pid, p -> new ArrayList<>());
        for (int fd : fds) {
            list.add(fd);
        }
        return this;
    }

    /**
     * Names the checkpoint the contexts report.
     *
     * @param id the checkpoint id, e.g. {@code default-3}
     * @param number its generation
     * @return this
     */
    public FakeComputation checkpointId(String id, long number) {
        this.checkpointId = id;
        this.generation = number;
        return this;
    }

    /**
     * Makes this computation one part of a computation that spans hosts: its contexts
     * report {@code part()} and {@code parts()} and exchange bytes through {@code parts}
     * with the other parts' computations.
     *
     * @param name this part's name, one of {@code parts}' names
     * @param parts the parts, shared by every part's computation
     * @return this
     */
    public FakeComputation part(String name, FakeParts parts) {
        if (!parts.names().contains(name)) {
            throw new IllegalArgumentException("no part " + name + " in " + parts.names());
        }
        this.partName = name;
        this.parts = parts;
        return this;
    }

    /** @return the plugin's records, shared by every context (modifiable: copy records in for a restart) */
    public Map<String, String> records() {
        return records;
    }

    /** @return the lines the plugin logged, oldest first */
    public List<String> log() {
        return log;
    }

    /** @return "pid:epfd:fd" of each {@link ProcessAccess#epollAdd} after a restart */
    public List<String> epollAdds() {
        return epollAdds;
    }

    /** @return "pid:fd" of each {@link ProcessAccess#install} after a checkpoint */
    public List<String> installs() {
        return installs;
    }

    /** @return the restart plan plugins filled in */
    public FakePlan plan() {
        return plan;
    }

    /**
     * The computation a restart of this one's checkpoint brings back, for a test that
     * closes the originals first (as when the processes are killed): same plugin
     * directory, checkpoint id and pids, holding no descriptors, and a copy of the records.
     * It has descriptors of its own, closed by its {@link #close()}.
     *
     * @return the new computation, ready for {@link #restart()}
     */
    public FakeComputation restarted() {
        FakeComputation restarted = new FakeComputation(directory);
        processes.keySet().forEach(restarted::process);
        restarted.records.putAll(records);
        if (parts != null) {
            restarted.part(partName, parts);
        }
        return restarted.checkpointId(checkpointId, generation);
    }

    /** @return every process's restored fd table, by pid */
    public Map<Integer, Map<Integer, FdSource>> installed() {
        Map<Integer, Map<Integer, FdSource>> all = new LinkedHashMap<>();
        processes.keySet().forEach(pid -> all.put(pid, installed(pid)));
        return all;
    }

    /**
     * @param pid a process
     * @return its restored fd table (modifiable: remove an entry to simulate a failure)
     */
    public Map<Integer, FdSource> installed(int pid) {
        return processes.containsKey(pid) ? plan.fds(pid) : Map.of();
    }

    /**
     * @param pid a process
     * @param fd a descriptor number of the restored process
     * @return the descriptor of the test JVM the plan passes there
     * @throws AssertionError if the plan has no {@link FdSource.Passed} there
     */
    public int passed(int pid, int fd) {
        if (!(installed(pid).get(fd) instanceof FdSource.Passed passed)) {
            throw new AssertionError("nothing passed at process " + pid + " fd " + fd + " (" + installed(pid).get(fd)
                    + ")");
        }
        return passed.descriptor();
    }

    /**
     * @return the context of {@code write}
     */
    public CheckpointContext checkpoint() {
        return checkpoint(LifecycleEvent.WRITE);
    }

    /**
     * @param event {@code PRE_CHECKPOINT}, {@code DRAIN} or {@code WRITE}
     * @return its context (during preCheckpoint the processes still run: no descriptors, no access)
     */
    public CheckpointContext checkpoint(LifecycleEvent event) {
        return new Checkpointing(event);
    }

    /** @return the context of {@code restart}, with read-only records */
    public RestartContext restart() {
        return new Restarting();
    }

    /**
     * @param outcome how the computation runs again
     * @return the context of {@code resume}; after {@code RESTARTED}, process access
     *         works on the descriptors the plan passed
     */
    public ResumeContext resume(ResumeContext.Outcome outcome) {
        return new Resuming(outcome);
    }

    /**
     * Ends the operation as the core does after {@code resume} (or after a failure):
     * closes the duplicates made for the plugin and drops its operation store (closing
     * the closeable values in it); the next context gets a new, empty store.
     */
    public void endOperation() {
        duplicates.values().forEach(descriptors::close);
        duplicates.clear();
        FakeStore ended = store;
        store = new FakeStore();
        ended.end();
    }

    /** @return the operation store of the operation under way, as the plugin's contexts hand it out */
    public FakeStore store() {
        return store;
    }

    /** Ends the operation and closes the descriptors if this computation made them. */
    @Override
    public void close() {
        endOperation();
        if (ownsDescriptors) {
            descriptors.close();
        }
    }

    private Computation computation() {
        List<ProcessInfo> infos = new ArrayList<>();
        int root = 0;
        int self = (int) ProcessHandle.current().pid();
        for (int pid : processes.keySet()) {
            infos.add(new ProcessInfo(pid, self, root, "test"));
            root = root == 0 ? pid : root;
        }

        return new Computation() {
            @Override
            public String name() {
                return NAME;
            }

            @Override
            public List<ProcessInfo> processes() {
                return List.copyOf(infos);
            }
        };
    }

    /** One duplicate per descriptor of a process until {@link #endOperation()}, as the core's. */
    int duplicateOf(int pid, int fd) throws IOException {
        Integer known = duplicates.get(pid + ":" + fd);
        if (known != null) {
            return known;
        }
        int dup = descriptors.dup(fd);
        duplicates.put(pid + ":" + fd, dup);
        return dup;
    }

    List<Integer> fdsOf(int pid) throws IOException {
        List<Integer> fds = processes.get(pid);
        if (fds == null) {
            throw new IOException("no process " + pid + " in the computation");
        }
        return fds;
    }

    private abstract class Context implements EventContext {
        private final LifecycleEvent event;

        Context(LifecycleEvent event) {
            this.event = event;
        }

        @Override
        public LifecycleEvent event() {
            return event;
        }

        @Override
        public Computation computation() {
            return FakeComputation.this.computation();
        }

        @Override
        public String checkpointId() {
            return checkpointId;
        }

        @Override
        public long generation() {
            return generation;
        }

        @Override
        public Path pluginDirectory() {
            try {
                return Files.createDirectories(directory);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void log(String message) {
            log.add(message);
        }

        @Override
        public FakeStore store() {
            return store;
        }

        @Override
        public String part() {
            return parts == null ? EventContext.super.part() : partName;
        }

        @Override
        public List<String> parts() {
            return parts == null ? EventContext.super.parts() : parts.names();
        }

        @Override
        public Map<String, byte[]> exchange(String topic, byte[] mine) throws IOException {
            return parts == null ? EventContext.super.exchange(topic, mine) : parts.exchange(partName, event, topic, mine);
        }
    }

    private final class Checkpointing extends Context implements CheckpointContext {
        Checkpointing(LifecycleEvent event) {
            super(event);
        }

        @Override
        public PluginRecords records() {
            return new FakeRecords(records, true);
        }

        @Override
        public List<OpenFd> openFds(int pid) {
            if (event() == LifecycleEvent.PRE_CHECKPOINT) {
                return List.of();
            }
            List<OpenFd> fds = new ArrayList<>();
            try {
                for (int fd : fdsOf(pid)) {
                    int flags = Integer.parseInt(Descriptors.fdInfoField(fd, "flags").orElse("0"), 8);
                    long offset = Long.parseLong(Descriptors.fdInfoField(fd, "pos").orElse("0"));
                    fds.add(new OpenFd(fd, Descriptors.target(fd), flags, offset));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            fds.sort((a, b) -> Integer.compare(a.fd(), b.fd()));
            return fds;
        }

        @Override
        public Optional<byte[]> terminalSettings(int pid, int fd) {
            return Optional.empty();
        }

        @Override
        public ProcessAccess processes() {
            return event() == LifecycleEvent.PRE_CHECKPOINT ? new ProcessAccesses.Running()
                    : new ProcessAccesses.Suspended(FakeComputation.this);
        }
    }

    private final class Restarting extends Context implements RestartContext {
        Restarting() {
            super(LifecycleEvent.RESTART);
        }

        @Override
        public PluginRecords records() {
            return new FakeRecords(records, false);
        }

        @Override
        public FakePlan plan() {
            return plan;
        }
    }

    private final class Resuming extends Context implements ResumeContext {
        private final Outcome outcome;

        Resuming(Outcome outcome) {
            super(LifecycleEvent.RESUME);
            this.outcome = outcome;
        }

        @Override
        public Outcome outcome() {
            return outcome;
        }

        @Override
        public ProcessAccess processes() {
            return outcome == Outcome.RESTARTED ? new ProcessAccesses.Restored(FakeComputation.this)
                    : new ProcessAccesses.Suspended(FakeComputation.this);
        }
    }
}
