package org.stasis.api.testkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.stasis.api.FdSource;
import org.stasis.api.FileLock;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartPlan;

/**
 * A restart plan that only records what plugins put in it, for a test to check. It
 * knows the computation's pids: asking for another one fails as the core's would.
 */
public final class FakePlan implements RestartPlan {
    private final Set<Integer> pids;
    private final Map<Integer, Process> processes = new TreeMap<>();
    private final Map<String, String> rewrites = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final Map<Path, Path> redirects = new LinkedHashMap<>();
    private PidStrategy strategy = PidStrategy.KEEP_PIDS;

    /** @param pids the processes of the checkpoint (a live view is fine) */
    public FakePlan(Set<Integer> pids) {
        this.pids = pids;
    }

    @Override
    public ProcessPlan process(int pid) {
        if (!pids.contains(pid)) {
            throw new IllegalArgumentException("the checkpoint has no process " + pid);
        }
        return processes.computeIfAbsent(pid, Process::new);
    }

    /**
     * @param pid a process
     * @return its fd table so far (modifiable, to simulate another plugin), empty if untouched
     */
    public Map<Integer, FdSource> fds(int pid) {
        Process process = processes.get(pid);
        return process == null ? new TreeMap<>() : process.fds;
    }

    @Override
    public void rewritePath(String from, String to) {
        rewrites.put(from, to);
    }

    @Override
    public Map<String, String> pathRewrites() {
        return rewrites;
    }

    /** Records the redirect (and its path rewrite, as the core does); paths must be absolute. */
    @Override
    public void redirect(Path from, Path to) {
        if (!from.isAbsolute() || !to.isAbsolute()) {
            throw new IllegalArgumentException("a redirect needs absolute paths, not " + from + " -> " + to);
        }
        redirects.put(from.normalize(), to.normalize());
        rewrites.put(from.normalize().toString(), to.normalize().toString());
    }

    @Override
    public Map<Path, Path> redirects() {
        return redirects;
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

    private static final class Process implements ProcessPlan {
        private final int pid;
        private final Map<Integer, FdSource> fds = new TreeMap<>();
        private final Map<Integer, byte[]> terminals = new TreeMap<>();
        private final List<FileLock> locks = new ArrayList<>();
        private Path directory;

        Process(int pid) {
            this.pid = pid;
        }

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
            terminals.put(fd, termios.clone());
        }

        @Override
        public Map<Integer, byte[]> terminalSettings() {
            return terminals;
        }

        @Override
        public void workingDirectory(Path directory) {
            this.directory = directory;
        }

        @Override
        public Optional<Path> workingDirectory() {
            return Optional.ofNullable(directory);
        }

        @Override
        public void lock(FileLock lock) {
            locks.add(lock);
        }

        @Override
        public List<FileLock> locks() {
            return locks;
        }
    }
}
