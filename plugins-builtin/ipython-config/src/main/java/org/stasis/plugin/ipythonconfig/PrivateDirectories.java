package org.stasis.plugin.ipythonconfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The private directories restored profiles live in: {@code <runtime dir>/ipython-config/
 * <checkpoint id>-<n>}, mode 0700 (the runtime directory is the coordinator's:
 * {@code $STASIS_RUNTIME_DIR}, else {@code $XDG_RUNTIME_DIR/stasis}, else
 * {@code /tmp/stasis-<uid>}). Each is removed once every process of the computation it
 * was made for has ended, and all of them when the plugin stops.
 */
final class PrivateDirectories implements AutoCloseable {
    private final Path base;
    private final Map<Path, List<Path>> owners = new ConcurrentHashMap<>();
    private final Map<Path, Map<Path, Path>> copies = new ConcurrentHashMap<>();
    private final Map<Path, List<Integer>> hostPids = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watcher;
    private final Path proc;
    private Consumer<String> note = line -> { };

    PrivateDirectories(Path runtimeDirectory, Path proc) {
        this.base = runtimeDirectory.resolve("ipython-config");
        this.proc = proc;
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ipython-config-cleanup");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::sweep, 2, 2, TimeUnit.SECONDS);
    }

    /** The coordinator's runtime directory, as the core chooses it. */
    static Path runtimeDirectory(Map<String, String> env) throws IOException {
        if (env.get("STASIS_RUNTIME_DIR") != null && !env.get("STASIS_RUNTIME_DIR").isEmpty()) {
            return Path.of(env.get("STASIS_RUNTIME_DIR"));
        }
        if (env.get("XDG_RUNTIME_DIR") != null && !env.get("XDG_RUNTIME_DIR").isEmpty()) {
            return Path.of(env.get("XDG_RUNTIME_DIR"), "stasis");
        }
        return Path.of("/tmp", "stasis-" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }

    /** @return a new empty directory, mode 0700, for a restart of {@code checkpointId} */
    Path create(String checkpointId) throws IOException {
        Files.createDirectories(base, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        for (int n = 1;; n++) {
            Path dir = base.resolve(checkpointId.replace('/', '_') + "-" + n);
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                owners.put(dir, List.of());
                return dir;
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                // another restart of the same checkpoint: next number
            }
        }
    }

    /** Notes that {@code dir} serves {@code root} (as the processes name it) from {@code copy}. */
    void serves(Path dir, Path root, Path copy) {
        copies.computeIfAbsent(dir, d -> new ConcurrentHashMap<>()).put(root, copy);
    }

    /**
     * Where processes restarted by this plugin really find {@code root}: its private copy,
     * if one of {@code pids} (host pids) belongs to a computation this plugin restarted.
     */
    Path seenAs(Path root, java.util.Collection<Integer> pids) {
        for (Map.Entry<Path, List<Integer>> owner : hostPids.entrySet()) {
            if (owner.getValue().stream().anyMatch(pids::contains)) {
                Path copy = copies.getOrDefault(owner.getKey(), Map.of()).get(root);
                if (copy != null && Files.exists(copy)) {
                    return copy;
                }
            }
        }
        return root;
    }

    /** The directory is removed once none of these host pids runs any more. */
    void ownedBy(Path dir, List<Integer> hostPids, Consumer<String> log) {
        this.note = log;
        this.hostPids.put(dir, List.copyOf(hostPids));
        List<Path> procs = new ArrayList<>();
        for (int pid : hostPids) {
            procs.add(proc.resolve(Integer.toString(pid)));
        }
        owners.put(dir, procs);
    }

    /** Removes the directory now (a failed restart). */
    void discard(Path dir) {
        owners.remove(dir);
        copies.remove(dir);
        hostPids.remove(dir);
        Blobs.remove(dir, note);
    }

    void sweep() {
        for (Map.Entry<Path, List<Path>> entry : owners.entrySet()) {
            List<Path> procs = entry.getValue();
            if (!procs.isEmpty() && procs.stream().noneMatch(Files::exists)) {
                discard(entry.getKey());
            }
        }
    }

    /** @return the directories still kept */
    List<Path> kept() {
        return List.copyOf(owners.keySet());
    }

    @Override
    public void close() {
        watcher.shutdownNow();
        for (Path dir : kept()) {
            discard(dir);
        }
    }
}
