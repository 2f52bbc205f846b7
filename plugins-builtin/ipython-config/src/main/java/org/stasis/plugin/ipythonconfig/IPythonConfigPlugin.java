package org.stasis.plugin.ipythonconfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.stasis.api.CheckpointContext;
import org.stasis.api.OpenFd;
import org.stasis.api.PluginRecords;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * IPython's and Jupyter's files. At checkpoint ({@code write}, processes suspended, so
 * history.sqlite is not half written), for each process that is IPython, a Jupyter
 * kernel or part of ipyparallel (command line, environment, an open history.sqlite):
 * its profile directory (IPYTHONDIR or ~/.ipython/profile_NAME, --profile-dir),
 * JUPYTER_CONFIG_DIR and its connection file ({@code -f}) are copied into the
 * checkpoint as blobs ({@code plugins/ipython-config/root-N/}); files larger than
 * {@code max.file.bytes} (Config Admin, PID {@code org.stasis.plugin.ipythonconfig},
 * default 64 MiB) are skipped, each with a line in {@code stasis events}; a file the
 * coordinator cannot read refuses the checkpoint with one line naming it.
 *
 * <p>At restart the saved copies are restored into a private directory (mode 0700)
 * inside the coordinator's runtime directory, {@code ipython-config/<checkpoint>-<n>/
 * root-N}, removed when every process of the restarted computation has ended, or at
 * once when the restart fails before its {@code resume}. The
 * user's own files are never written: the restart plan redirects the original paths
 * there ({@code RestartPlan.redirect}), so the restored processes read and write the
 * copies (config as it was at the checkpoint, its history.sqlite) under the old names,
 * also when the user has changed or deleted the originals since. A restored process
 * checkpointed again is saved from the copy it sees.
 *
 * <p>Ranked 130: at checkpoint it copies while the core writes the memory images, ahead
 * of the plugins that ask the agents (event, pty), which wait until the agents are done
 * writing (ranked after them it added its copy, 5-20 ms, to every checkpoint); at
 * restart it still comes before the file plugin, which reopens history.sqlite under the
 * redirected path.
 */
@Component(configurationPid = IPythonConfigPlugin.PID, property = "service.ranking:Integer=130")
@StasisPlugin("ipython-config")
public class IPythonConfigPlugin implements WriteCallback, RestartCallback, ResumeCallback {
    static final String PID = "org.stasis.plugin.ipythonconfig";
    static final String LIMIT = "max.file.bytes";
    static final long DEFAULT_LIMIT = 64L << 20;
    private static final String ROOT = "root.";
    private static final String KIND = "kind.";
    private static final String RESTORED = "restored";

    private final Path proc;
    private final PrivateDirectories directories;
    private volatile long limit = DEFAULT_LIMIT;

    /** The component: processes under /proc, private directories in the coordinator's runtime directory. */
    public IPythonConfigPlugin() throws IOException {
        this(Path.of("/proc"), PrivateDirectories.runtimeDirectory(System.getenv()));
    }

    IPythonConfigPlugin(Path proc, Path runtimeDirectory) {
        this.proc = proc;
        this.directories = new PrivateDirectories(runtimeDirectory, proc);
    }

    @Activate
    @Modified
    void configure(Map<String, Object> properties) {
        Object value = properties == null ? null : properties.get(LIMIT);
        limit = value == null ? DEFAULT_LIMIT : Long.parseLong(value.toString().trim());
    }

    @Deactivate
    void stop() {
        directories.close();
    }

    /** @return the private directories of restarts whose computation still runs */
    List<Path> privateDirectories() {
        return directories.kept();
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        List<Integer> hostPids = new ArrayList<>();
        context.computation().processes().forEach(p -> hostPids.add(p.hostPid()));
        Set<Path> found = new java.util.TreeSet<>();
        for (ProcessInfo process : context.computation().processes()) {
            List<OpenFd> fds = context.openFds(process.pid());
            ProcessView view = ProcessView.read(proc, process.hostPid());
            if (ProfileFinder.isIPython(view, fds)) {
                // a restored process sees a redirected profile in its private copy
                ProfileFinder.roots(view, fds).forEach(r -> found.add(directories.seenAs(r, hostPids)));
            }
        }
        Map<Path, Integer> roots = new LinkedHashMap<>();
        for (Path root : found) {                     // sorted: a root inside another is in its copy
            if (roots.keySet().stream().noneMatch(root::startsWith)) {
                roots.put(root, roots.size() + 1);
            }
        }
        PluginRecords records = context.records();
        for (Map.Entry<Path, Integer> root : roots.entrySet()) {
            int n = root.getValue();
            Blobs.Saved saved = Blobs.save(root.getKey(), context.pluginDirectory().resolve("root-" + n), limit,
                    context::log);
            records.put(ROOT + n, root.getKey().toString());
            records.put(KIND + n, Files.isDirectory(root.getKey()) ? "dir" : "file");
            context.log("saved " + root.getKey() + ": " + saved.files() + " files, " + saved.bytes() + " bytes"
                    + (saved.skipped() > 0 ? ", " + saved.skipped() + " skipped" : ""));
        }
    }

    @Override
    public void restart(RestartContext context) throws IOException {
        Map<String, String> records = context.records().asMap();
        List<Integer> roots = new ArrayList<>();
        records.keySet().stream().filter(k -> k.startsWith(ROOT))
                .forEach(k -> roots.add(Integer.parseInt(k.substring(ROOT.length()))));
        if (roots.isEmpty()) {
            return;
        }
        Path dir = directories.create(context.checkpointId());
        try {
            for (int n : roots) {
                Path saved = context.pluginDirectory().resolve("root-" + n);
                if (!Files.isDirectory(saved)) {
                    throw new IOException("the checkpoint lacks plugins/ipython-config/root-" + n
                            + " (the saved copy of " + records.get(ROOT + n) + "): it is damaged");
                }
                Path copy = dir.resolve("root-" + n);
                Blobs.restore(saved, copy);
                Path root = Path.of(records.get(ROOT + n));
                if ("file".equals(records.get(KIND + n))) {
                    copy = copy.resolve(root.getFileName().toString());
                }
                context.plan().redirect(root, copy);
                directories.serves(dir, root, copy);
                context.log("restored " + root + " into " + copy + " (the restored processes see it at " + root + ")");
            }
        } catch (IOException e) {
            directories.discard(dir);
            throw e;
        }
        context.store().put(RESTORED, new Restored(dir, directories));
    }

    /**
     * A restart's private directory until its {@code resume} takes it: the operation store
     * closes it, removing the directory, when the restart fails before that.
     */
    private record Restored(Path dir, PrivateDirectories directories) implements AutoCloseable {
        @Override
        public void close() {
            directories.discard(dir);
        }
    }

    @Override
    public void resume(ResumeContext context) {
        if (!context.isRestart()) {
            return;
        }
        context.store().remove(RESTORED, Restored.class).ifPresent(restored -> {
            List<Integer> hostPids = new ArrayList<>();
            context.computation().processes().forEach(p -> hostPids.add(p.hostPid()));
            directories.ownedBy(restored.dir(), hostPids, context::log);
        });
    }
}
