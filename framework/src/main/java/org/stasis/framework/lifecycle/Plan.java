package org.stasis.framework.lifecycle;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.stasis.api.FdSource;
import org.stasis.api.FileLock;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartPlan;

/** The restart plan plugins fill in and the core carries out. */
public final class Plan implements RestartPlan {
    private final Map<Integer, Process> processes = new LinkedHashMap<>();
    private final Map<String, String> rewrites = new LinkedHashMap<>();
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final Map<Path, Path> redirects = new LinkedHashMap<>();
    private final java.util.Set<Integer> passed = new java.util.TreeSet<>();
    private PidStrategy pidStrategy = PidStrategy.KEEP_PIDS;

    /** @param processes the checkpoint's processes */
    public Plan(List<ProcessInfo> processes) {
        processes.forEach(p -> this.processes.put(p.pid(), new Process(p.pid(), passed)));
    }

    @Override
    public synchronized ProcessPlan process(int pid) {
        Process process = processes.get(pid);
        if (process == null) {
            throw new IllegalArgumentException("the checkpoint has no process " + pid);
        }
        return process;
    }

    /** @return every process's plan, in checkpoint order */
    public synchronized List<ProcessPlan> processes() {
        return List.copyOf(processes.values());
    }

    /**
     * @return every descriptor plugins passed with {@link FdSource.Passed}, once each,
     *         including ones a later entry replaced (the core owns them all)
     */
    public java.util.Set<Integer> passedDescriptors() {
        synchronized (passed) {
            return new java.util.TreeSet<>(passed);
        }
    }

    @Override
    public synchronized void rewritePath(String from, String to) {
        rewrites.put(from, to);
    }

    @Override
    public synchronized Map<String, String> pathRewrites() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(rewrites));
    }

    @Override
    public synchronized void redirect(Path from, Path to) {
        Redirects.check(redirects, from, to);
        redirects.put(from.normalize(), to.normalize());
        rewrites.put(from.normalize().toString(), to.normalize().toString());
    }

    @Override
    public synchronized Map<Path, Path> redirects() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(redirects));
    }

    @Override
    public synchronized void setEnvironment(String name, String value) {
        environment.put(name, value);
    }

    @Override
    public synchronized Map<String, String> environment() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(environment));
    }

    @Override
    public synchronized PidStrategy pidStrategy() {
        return pidStrategy;
    }

    @Override
    public synchronized void pidStrategy(PidStrategy strategy) {
        this.pidStrategy = strategy;
    }

    private static final class Process implements ProcessPlan {
        private final int pid;
        private final Map<Integer, FdSource> fds = new TreeMap<>();
        private final Map<Integer, byte[]> terminals = new TreeMap<>();
        private final List<FileLock> locks = new java.util.ArrayList<>();
        private final java.util.Set<Integer> passed;
        private Path workingDirectory;

        Process(int pid, java.util.Set<Integer> passed) {
            this.pid = pid;
            this.passed = passed;
        }

        @Override
        public int pid() {
            return pid;
        }

        @Override
        public synchronized void installFd(int fd, FdSource source) {
            if (fd < 0) {
                throw new IllegalArgumentException("negative fd " + fd);
            }
            fds.put(fd, source);
            if (source instanceof FdSource.Passed pass) {
                synchronized (passed) {
                    passed.add(pass.descriptor());
                }
            }
        }

        @Override
        public synchronized Map<Integer, FdSource> fds() {
            return Collections.unmodifiableMap(new TreeMap<>(fds));
        }

        @Override
        public synchronized void terminalSettings(int fd, byte[] termios) {
            terminals.put(fd, termios.clone());
        }

        @Override
        public synchronized Map<Integer, byte[]> terminalSettings() {
            return Collections.unmodifiableMap(new TreeMap<>(terminals));
        }

        @Override
        public synchronized void lock(FileLock lock) {
            locks.add(lock);
        }

        @Override
        public synchronized List<FileLock> locks() {
            return List.copyOf(locks);
        }

        @Override
        public synchronized void workingDirectory(Path directory) {
            this.workingDirectory = directory;
        }

        @Override
        public synchronized Optional<Path> workingDirectory() {
            return Optional.ofNullable(workingDirectory);
        }
    }
}
