package org.stasis.samples.reconnect;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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

/**
 * Just enough of the core for the plugin to run: the "processes" are this test JVM,
 * so duplicating a process's descriptor hands back the descriptor itself.
 */
final class FakeContexts {
    final Map<Integer, List<OpenFd>> fds = new TreeMap<>();
    final Map<String, String> records = new LinkedHashMap<>();
    final List<String> log = new ArrayList<>();
    final Map<Integer, Map<Integer, FdSource>> installed = new TreeMap<>();

    /** @param pid a process; @param fd one of this JVM's descriptors it "has" */
    void give(int pid, int fd, int flags) throws IOException {
        fds.computeIfAbsent(pid, p -> new ArrayList<>())
                .add(new OpenFd(fd, "socket:[" + RawFds.inode(fd) + "]", flags, 0));
    }

    /** @param pid a process; @param fd a descriptor it has, as the socket plugin would install it */
    void installedBefore(int pid, int fd, FdSource source) {
        installed.computeIfAbsent(pid, p -> new TreeMap<>()).put(fd, source);
    }

    private Computation computation() {
        List<ProcessInfo> processes = fds.keySet().stream().map(pid -> new ProcessInfo(pid, pid, 0, "test")).toList();
        return new Computation() {
            @Override
            public String name() {
                return "test";
            }

            @Override
            public List<ProcessInfo> processes() {
                return processes;
            }
        };
    }

    private abstract class Base implements org.stasis.api.EventContext {
        @Override
        public Computation computation() {
            return FakeContexts.this.computation();
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
            throw new UnsupportedOperationException("the reconnect plugin keeps no blobs");
        }

        @Override
        public void log(String message) {
            log.add(message);
        }
    }

    CheckpointContext checkpoint() {
        return new CheckpointWrite();
    }

    RestartContext restart() {
        return new Restart();
    }

    private final class CheckpointWrite extends Base implements CheckpointContext {
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
            return fds.getOrDefault(pid, List.of());
        }

        @Override
        public Optional<byte[]> terminalSettings(int pid, int fd) {
            return Optional.empty();
        }

        @Override
        public ProcessAccess processes() {
            return new ProcessAccess() {
                @Override
                public int duplicate(int pid, int fd) throws IOException {
                    if (openFds(pid).stream().noneMatch(open -> open.fd() == fd)) {
                        throw new IOException("process " + pid + " has no fd " + fd);
                    }
                    return fd;
                }

                @Override
                public List<String> fdInfo(int pid, int fd) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void epollAdd(int pid, int epfd, int fd, int events, long data) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) {
                    throw new UnsupportedOperationException();
                }
            };
        }
    }

    private final class Restart extends Base implements RestartContext {
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

    private final class Records implements PluginRecords {
        private final boolean writable;

        Records(boolean writable) {
            this.writable = writable;
        }

        @Override
        public void put(String key, String value) {
            if (!writable) {
                throw new UnsupportedOperationException("read-only at restart");
            }
            records.put(key, value);
        }

        @Override
        public Optional<String> get(String key) {
            return Optional.ofNullable(records.get(key));
        }

        @Override
        public Map<String, String> asMap() {
            return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(records));
        }
    }

    private final class Plan implements RestartPlan {
        @Override
        public ProcessPlan process(int pid) {
            if (!fds.containsKey(pid)) {
                throw new IllegalArgumentException("the checkpoint has no process " + pid);
            }
            return new ProcessPlan() {
                @Override
                public int pid() {
                    return pid;
                }

                @Override
                public void installFd(int fd, FdSource source) {
                    installedBefore(pid, fd, source);
                }

                @Override
                public Map<Integer, FdSource> fds() {
                    return installed.getOrDefault(pid, Map.of());
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
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, String> pathRewrites() {
            return Map.of();
        }

        @Override
        public void setEnvironment(String name, String value) {
            throw new UnsupportedOperationException();
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
            throw new UnsupportedOperationException();
        }
    }
}
