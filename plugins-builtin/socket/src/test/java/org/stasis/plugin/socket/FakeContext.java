package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

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
 * The core as the plugin sees it, played by the test's own process: "processes" are
 * sets of this JVM's descriptors, duplicates are dup(2)s of them, and the restart
 * plan records what the plugin installs.
 */
final class FakeContext implements CheckpointContext, ResumeContext, RestartContext, ProcessAccess {
    private final Kit kit;
    private final Path directory;
    private final Map<Integer, List<Integer>> processes = new TreeMap<>();
    private final Map<String, Integer> duplicates = new HashMap<>();
    final Records records = new Records();
    final List<String> log = new ArrayList<>();
    final Map<Integer, Map<Integer, FdSource>> installed = new TreeMap<>();
    Outcome outcome = Outcome.RESUMED;

    FakeContext(Kit kit, Path directory) {
        this.kit = kit;
        this.directory = directory;
    }

    /** Makes {@code fd} of this JVM a descriptor of process {@code pid}. */
    FakeContext hold(int pid, int... fds) {
        List<Integer> list = processes.computeIfAbsent(pid, p -> new ArrayList<>());
        for (int fd : fds) {
            list.add(fd);
        }
        return this;
    }

    /** @return the descriptor installed at (pid, fd) */
    int passed(int pid, int fd) {
        FdSource source = installed.getOrDefault(pid, Map.of()).get(fd);
        if (!(source instanceof FdSource.Passed passed)) {
            throw new AssertionError("nothing passed at " + pid + ":" + fd + " (" + source + ")");
        }
        return passed.descriptor();
    }

    /** Closes every duplicate, as the core does when the operation ends. */
    void endOperation() {
        duplicates.values().forEach(kit::close);
        duplicates.clear();
    }

    // ---- EventContext

    @Override
    public LifecycleEvent event() {
        return LifecycleEvent.DRAIN;
    }

    @Override
    public Computation computation() {
        return new Computation() {
            @Override
            public String name() {
                return "test";
            }

            @Override
            public List<ProcessInfo> processes() {
                List<ProcessInfo> list = new ArrayList<>();
                int self = (int) ProcessHandle.current().pid();
                processes.keySet().forEach(pid -> list.add(new ProcessInfo(pid, self, 0, "test")));
                return list;
            }
        };
    }

    @Override
    public String checkpointId() {
        return "test-1";
    }

    @Override
    public long generation() {
        return 1;
    }

    @Override
    public Path pluginDirectory() {
        return directory;
    }

    @Override
    public void log(String message) {
        log.add(message);
    }

    // ---- CheckpointContext

    @Override
    public PluginRecords records() {
        return records;
    }

    @Override
    public List<OpenFd> openFds(int pid) {
        List<OpenFd> fds = new ArrayList<>();
        for (int fd : processes.getOrDefault(pid, List.of())) {
            try {
                int flags = kit.s.fcntl(fd, 3 /* F_GETFL */, 0);
                fds.add(new OpenFd(fd, Kit.target(fd), flags, 0));
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
        return this;
    }

    // ---- ResumeContext

    @Override
    public Outcome outcome() {
        return outcome;
    }

    // ---- RestartContext

    @Override
    public RestartPlan plan() {
        return new Plan();
    }

    // ---- ProcessAccess

    /** dup3, for {@link #install}: the test's own descriptor numbers play the processes'. */
    interface Dup extends com.sun.jna.Library {
        int dup3(int old, int target, int flags) throws com.sun.jna.LastErrorException;
    }

    private static final Dup DUP = com.sun.jna.Native.load("c", Dup.class);

    @Override
    public void install(int pid, int fd, int descriptor, int flags) throws IOException {
        try {
            DUP.dup3(descriptor, fd, flags & 02000000);
        } catch (com.sun.jna.LastErrorException e) {
            throw new IOException("dup3: " + e.getMessage(), e);
        }
    }

    @Override
    public int duplicate(int pid, int fd) throws IOException {
        if (!processes.getOrDefault(pid, List.of()).contains(fd)) {
            throw new IOException("process " + pid + " has no descriptor " + fd);
        }
        Integer known = duplicates.get(pid + ":" + fd);
        if (known != null) {
            return known;
        }
        int dup = kit.track(kit.s.dup(fd));
        duplicates.put(pid + ":" + fd, dup);
        return dup;
    }

    @Override
    public List<String> fdInfo(int pid, int fd) {
        return List.of();
    }

    @Override
    public void epollAdd(int pid, int epfd, int fd, int events, long data) {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
        return Kit.inode(fdA) == Kit.inode(fdB);
    }

    /** Records in insertion order, like the core's. */
    static final class Records implements PluginRecords {
        private final Map<String, String> map = new LinkedHashMap<>();

        @Override
        public void put(String key, String value) {
            map.put(key, value);
        }

        @Override
        public Optional<String> get(String key) {
            return Optional.ofNullable(map.get(key));
        }

        @Override
        public Map<String, String> asMap() {
            return Collections.unmodifiableMap(map);
        }
    }

    private final class Plan implements RestartPlan {
        @Override
        public ProcessPlan process(int pid) {
            return new ProcessPlan() {
                @Override
                public int pid() {
                    return pid;
                }

                @Override
                public void installFd(int fd, FdSource source) {
                    installed.computeIfAbsent(pid, p -> new TreeMap<>()).put(fd, source);
                }

                @Override
                public Map<Integer, FdSource> fds() {
                    return installed.getOrDefault(pid, Map.of());
                }

                @Override
                public void terminalSettings(int fd, byte[] termios) {
                }

                @Override
                public Map<Integer, byte[]> terminalSettings() {
                    return Map.of();
                }

                @Override
                public void workingDirectory(Path directory) {
                }

                @Override
                public Optional<Path> workingDirectory() {
                    return Optional.empty();
                }
            };
        }

        @Override
        public void rewritePath(String from, String to) {
        }

        @Override
        public Map<String, String> pathRewrites() {
            return Map.of();
        }

        @Override
        public void setEnvironment(String name, String value) {
        }

        @Override
        public Map<String, String> environment() {
            return Map.of();
        }

        @Override
        public PidStrategy pidStrategy() {
            return PidStrategy.KEEP_PIDS;
        }

        @Override
        public void pidStrategy(PidStrategy strategy) {
        }
    }
}
