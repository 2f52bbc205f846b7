package org.stasis.plugin.event;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.stasis.api.CheckpointContext;
import org.stasis.api.Computation;
import org.stasis.api.FdSource;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.OpenFd;
import org.stasis.api.PluginRecords;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartContext;
import org.stasis.api.RestartPlan;
import org.stasis.api.ResumeContext;

/**
 * A computation whose "processes" are sets of descriptors of the test JVM, with the
 * contexts the core would hand the plugin for a checkpoint, a restart and the resume
 * after it. At restart, the installed descriptors stand for the restored processes'
 * fds: epollAdd translates the process's numbers through the plan, as the agent would
 * find them installed.
 */
final class FakeComputation {
    private final TestSystem system;
    private final Path directory;
    private final Map<Integer, List<Integer>> processes = new LinkedHashMap<>();
    private final Map<String, Integer> duplicates = new HashMap<>();
    private final Map<String, String> records = new LinkedHashMap<>();
    private final Map<Integer, Map<Integer, FdSource>> plan = new LinkedHashMap<>();
    final List<String> log = new ArrayList<>();
    final List<String> epollAdds = new ArrayList<>();

    FakeComputation(TestSystem system, Path directory) {
        this.system = system;
        this.directory = directory;
    }

    /** Adds a process that holds these descriptors of the test JVM, at the same numbers. */
    void process(int pid, Integer... fds) {
        processes.put(pid, List.of(fds));
    }

    Map<String, String> records() {
        return records;
    }

    /** @return the restored fd table of a process */
    Map<Integer, FdSource> installed(int pid) {
        return plan.getOrDefault(pid, Map.of());
    }

    /** @return the coordinator descriptor installed at a process's fd */
    int passed(int pid, int fd) {
        return ((FdSource.Passed) installed(pid).get(fd)).descriptor();
    }

    private Computation computation() {
        List<ProcessInfo> infos = new ArrayList<>();
        int parent = 0;
        for (int pid : processes.keySet()) {
            infos.add(new ProcessInfo(pid, (int) ProcessHandle.current().pid(), parent, "test"));
            parent = parent == 0 ? pid : parent;
        }
        return new Computation() {
            @Override
            public String name() {
                return "test";
            }

            @Override
            public List<ProcessInfo> processes() {
                return infos;
            }
        };
    }

    private abstract class Base {
        public Computation computation() {
            return FakeComputation.this.computation();
        }

        public String checkpointId() {
            return "test-1";
        }

        public long generation() {
            return 1;
        }

        public Path pluginDirectory() {
            return directory;
        }

        public void log(String message) {
            log.add(message);
        }
    }

    private final class Records implements PluginRecords {
        private final boolean writable;

        Records(boolean writable) {
            this.writable = writable;
        }

        @Override
        public void put(String key, String value) {
            if (!writable) {
                throw new UnsupportedOperationException();
            }
            records.put(key, value);
        }

        @Override
        public Optional<String> get(String key) {
            return Optional.ofNullable(records.get(key));
        }

        @Override
        public Map<String, String> asMap() {
            return new LinkedHashMap<>(records);
        }
    }

    /** The suspended processes at checkpoint time. */
    private final class Suspended implements ProcessAccess {
        @Override
        public int duplicate(int pid, int fd) throws IOException {
            if (!processes.get(pid).contains(fd)) {
                throw new IOException("process " + pid + " has no fd " + fd);
            }
            return duplicates.computeIfAbsent(pid + "/" + fd, key -> system.dup(fd));
        }

        @Override
        public List<String> fdInfo(int pid, int fd) throws IOException {
            if (!processes.get(pid).contains(fd)) {
                throw new IOException("process " + pid + " has no fd " + fd);
            }
            return TestSystem.fdinfo(fd);
        }

        @Override
        public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
            throw new IOException("not at checkpoint time");
        }

        @Override
        public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) {
            throw new UnsupportedOperationException("the plugin tells objects apart itself");
        }
    }

    /** The restored processes: their fds are what the plan installed. */
    private final class Restored implements ProcessAccess {
        @Override
        public int duplicate(int pid, int fd) throws IOException {
            return descriptor(pid, fd);
        }

        @Override
        public List<String> fdInfo(int pid, int fd) throws IOException {
            return TestSystem.fdinfo(descriptor(pid, fd));
        }

        @Override
        public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
            system.epollAdd(descriptor(pid, epfd), descriptor(pid, fd), events, data);
            epollAdds.add(pid + ":" + epfd + ":" + fd);
        }

        @Override
        public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) {
            throw new UnsupportedOperationException("not after a restart");
        }

        private int descriptor(int pid, int fd) throws IOException {
            if (!(installed(pid).get(fd) instanceof FdSource.Passed passed)) {
                throw new IOException("Bad file descriptor: process " + pid + " fd " + fd);
            }
            return passed.descriptor();
        }
    }

    CheckpointContext checkpoint() {
        ProcessAccess access = new Suspended();
        return new CheckpointContextImpl(access);
    }

    private final class CheckpointContextImpl extends Base implements CheckpointContext {
        private final ProcessAccess access;

        CheckpointContextImpl(ProcessAccess access) {
            this.access = access;
        }

        @Override
        public LifecycleEvent event() {
            return LifecycleEvent.WRITE;
        }

        @Override
        public PluginRecords records() {
            return new Records(true);
        }

        @Override
        public List<OpenFd> openFds(int pid) {
            List<OpenFd> fds = new ArrayList<>();
            for (int fd : processes.get(pid)) {
                try {
                    int flags = Integer.parseInt(FdInfo.required(TestSystem.fdinfo(fd), "flags"), 8);
                    fds.add(new OpenFd(fd, TestSystem.target(fd), flags, 0));
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return fds;
        }

        @Override
        public Optional<byte[]> terminalSettings(int pid, int fd) {
            return Optional.empty();
        }

        @Override
        public ProcessAccess processes() {
            return access;
        }
    }

    RestartContext restart() {
        return new RestartContextImpl();
    }

    private final class RestartContextImpl extends Base implements RestartContext {
        @Override
        public LifecycleEvent event() {
            return LifecycleEvent.RESTART;
        }

        @Override
        public PluginRecords records() {
            return new Records(false);
        }

        @Override
        public RestartPlan plan() {
            return new Plan();
        }
    }

    private final class Plan implements RestartPlan {
        private final Map<String, String> rewrites = new LinkedHashMap<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private PidStrategy strategy = PidStrategy.KEEP_PIDS;

        @Override
        public ProcessPlan process(int pid) {
            if (!processes.containsKey(pid)) {
                throw new IllegalArgumentException("no process " + pid);
            }
            Map<Integer, FdSource> fds = plan.computeIfAbsent(pid, key -> new LinkedHashMap<>());
            return new ProcessPlan() {
                @Override
                public int pid() {
                    return pid;
                }

                @Override
                public void installFd(int fd, FdSource source) {
                    fds.put(fd, source);
                }

                @Override
                public Map<Integer, FdSource> fds() {
                    return fds;
                }

                @Override
                public void terminalSettings(int fd, byte[] termios) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public Map<Integer, byte[]> terminalSettings() {
                    return Map.of();
                }

                @Override
                public void workingDirectory(Path directory) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public Optional<Path> workingDirectory() {
                    return Optional.empty();
                }
            };
        }

        @Override
        public void rewritePath(String from, String to) {
            rewrites.put(from, to);
        }

        @Override
        public Map<String, String> pathRewrites() {
            return rewrites;
        }

        @Override
        public void setEnvironment(String name, String value) {
            environment.put(name, value);
        }

        @Override
        public Map<String, String> environment() {
            return environment;
        }

        @Override
        public PidStrategy pidStrategy() {
            return strategy;
        }

        @Override
        public void pidStrategy(PidStrategy strategy) {
            this.strategy = strategy;
        }
    }

    ResumeContext resume(ResumeContext.Outcome outcome) {
        ProcessAccess access = outcome == ResumeContext.Outcome.RESTARTED ? new Restored() : new Suspended();
        return new ResumeContextImpl(outcome, access);
    }

    private final class ResumeContextImpl extends Base implements ResumeContext {
        private final Outcome outcome;
        private final ProcessAccess access;

        ResumeContextImpl(Outcome outcome, ProcessAccess access) {
            this.outcome = outcome;
            this.access = access;
        }

        @Override
        public LifecycleEvent event() {
            return LifecycleEvent.RESUME;
        }

        @Override
        public Outcome outcome() {
            return outcome;
        }

        @Override
        public ProcessAccess processes() {
            return access;
        }
    }
}
