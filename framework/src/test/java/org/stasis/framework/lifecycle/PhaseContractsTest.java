package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.CheckpointContext;
import org.stasis.api.Computation;
import org.stasis.api.DrainCallback;
import org.stasis.api.EventContext;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.OpenFd;
import org.stasis.api.OperationStore;
import org.stasis.api.PreCheckpointCallback;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.WriteCallback;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.PluginCallback;
import org.stasis.framework.dispatch.PluginRegistry;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;

/**
 * The phase-dependent contracts of the contexts (EventContext's javadoc) and the
 * operation store, through the real lifecycle: what a plugin sees in each event.
 */
class PhaseContractsTest {
    @TempDir
    Path root;

    private final List<String> journal = Collections.synchronizedList(new ArrayList<>());
    private final PluginRegistry registry = new PluginRegistry();
    private final EventLog log = new EventLog(200);
    private final EventDispatcher dispatcher = new EventDispatcher(registry, log, Duration.ofSeconds(5));
    private final Computation computation = new NamedComputation("app",
            () -> List.of(new ProcessInfo(2, 4242, 0, "python3 train.py")));
    private boolean restoreFails;
    private final CoreSteps core = new JournalingCore(journal) {
        @Override
        public List<OpenFd> openFds(int pid) {
            return List.of(new OpenFd(0, "/dev/pts/3", 2, 0));
        }

        @Override
        public Optional<byte[]> terminalSettings(int pid, int fd) {
            return Optional.of(new byte[60]);
        }

        @Override
        public void restore(Manifest manifest, Path directory, Plan plan) {
            super.restore(manifest, directory, plan);
            if (restoreFails) {
                throw new IllegalStateException("the restorer died");
            }
        }
    };
    private long serviceId = 1;

    @AfterEach
    void close() {
        dispatcher.close();
    }

    /** Writes down what each event offered, and keeps its store and values across events. */
    private static final class Probe implements PreCheckpointCallback, DrainCallback, WriteCallback, RestartCallback,
            ResumeCallback {
        final Map<String, Object> seen = new ConcurrentHashMap<>();
        final List<OperationStore> stores = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void preCheckpoint(CheckpointContext context) {
            seen.put("preCheckpoint.openFds", context.openFds(2));
            seen.put("preCheckpoint.termios", context.terminalSettings(2, 0).isPresent());
            seen.put("preCheckpoint.duplicate", failure(() -> context.processes().duplicate(2, 0)));
            remember(context, "preCheckpoint");
        }

        @Override
        public void drain(CheckpointContext context) {
            seen.put("drain.openFds", context.openFds(2));
            seen.put("drain.termios", context.terminalSettings(2, 0).isPresent());
            seen.put("drain.before", context.store().get("from", String.class).orElse("nothing"));
            remember(context, "drain");
        }

        @Override
        public void write(CheckpointContext context) {
            context.records().put("k", "v");
            remember(context, "write");
        }

        @Override
        public void restart(RestartContext context) {
            seen.put("restart.put", failure(() -> context.records().put("k", "other")));
            seen.put("restart.before", context.store().get("from", String.class).orElse("nothing"));
            remember(context, "restart");
            context.store().put("closeable", (AutoCloseable) () -> seen.put("closed", context.checkpointId()));
        }

        @Override
        public void resume(ResumeContext context) {
            seen.put("resume.before", context.store().get("from", String.class).orElse("nothing"));
            remember(context, "resume");
        }

        private void remember(EventContext context, String event) {
            stores.add(context.store());
            context.store().put("from", event);
        }

        private static String failure(ThrowingRunnable action) {
            try {
                action.run();
                return "none";
            } catch (Exception e) {
                return e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }

        @FunctionalInterface
        private interface ThrowingRunnable {
            void run() throws Exception;
        }
    }

    private Probe probe(String id) {
        Probe probe = new Probe();
        long sid = serviceId++;
        for (LifecycleEvent event : LifecycleEvent.values()) {
            registry.add(new PluginCallback(id, event, probe, 0, sid, "test 1.0"));
        }
        return probe;
    }

    private CheckpointLifecycle lifecycle() {
        return new CheckpointLifecycle(dispatcher, log, new CheckpointStore(root), core);
    }

    @Test
    void preCheckpointSeesNoDescriptorsNoTerminalsAndNoProcessAccess() throws Exception {
        Probe probe = probe("probe");

        lifecycle().checkpoint(computation);

        assertEquals(List.of(), probe.seen.get("preCheckpoint.openFds"));
        assertEquals(false, probe.seen.get("preCheckpoint.termios"));
        assertTrue(String.valueOf(probe.seen.get("preCheckpoint.duplicate")).startsWith(
                "IOException: the processes still run during preCheckpoint"), probe.seen.toString());
        assertEquals(List.of(new OpenFd(0, "/dev/pts/3", 2, 0)), probe.seen.get("drain.openFds"));
        assertEquals(true, probe.seen.get("drain.termios"));
    }

    @Test
    void recordsAreReadOnlyAtRestart() throws Exception {
        Probe probe = probe("probe");
        lifecycle().checkpoint(computation);

        lifecycle().restart(root.resolve("latest"), computation);

        assertTrue(String.valueOf(probe.seen.get("restart.put")).startsWith("UnsupportedOperationException"),
                probe.seen.toString());
        Manifest manifest = new CheckpointStore(root).read(root.resolve("latest"));
        assertEquals(Map.of("k", "v"), manifest.plugins().get("probe"));
    }

    @Test
    void oneStoreFromPreCheckpointToResumeThenGone() throws Exception {
        Probe probe = probe("probe");

        lifecycle().checkpoint(computation);

        assertEquals("preCheckpoint", probe.seen.get("drain.before"));
        assertEquals("write", probe.seen.get("resume.before"));
        assertEquals(4, probe.stores.size());
        probe.stores.forEach(store -> assertSame(probe.stores.get(0), store));
        IllegalStateException gone = assertThrows(IllegalStateException.class,
                () -> probe.stores.get(0).get("from", String.class));
        assertTrue(gone.getMessage().startsWith("the operation store of app-1 is gone"), gone.getMessage());
    }

    @Test
    void theNextOperationStartsWithAnEmptyStore() throws Exception {
        Probe probe = probe("probe");
        lifecycle().checkpoint(computation);

        lifecycle().restart(root.resolve("latest"), computation);

        assertEquals("nothing", probe.seen.get("restart.before"));
        assertEquals("restart", probe.seen.get("resume.before"));
        assertNotSame(probe.stores.get(0), probe.stores.get(4));
        assertEquals("app-1", probe.seen.get("closed"), "a closeable value was not closed when the restart ended");
    }

    @Test
    void eachPluginHasItsOwnStore() throws Exception {
        Probe one = probe("one");
        Probe two = probe("two");

        lifecycle().checkpoint(computation);

        assertNotSame(one.stores.get(0), two.stores.get(0));
        assertEquals("preCheckpoint", one.seen.get("drain.before"));
        assertEquals("preCheckpoint", two.seen.get("drain.before"));
    }

    @Test
    void aRestartThatFailsBeforeResumeStillDropsTheStore() throws Exception {
        Probe probe = probe("probe");
        lifecycle().checkpoint(computation);
        probe.seen.clear();
        restoreFails = true;

        assertThrows(OperationFailedException.class, () -> lifecycle().restart(root.resolve("latest"), computation));

        assertEquals(null, probe.seen.get("resume.before"), "resume ran after a failed restore");
        assertEquals("app-1", probe.seen.get("closed"), "the failed restart's store was not dropped");
        OperationStore restartStore = probe.stores.get(probe.stores.size() - 1);
        assertThrows(IllegalStateException.class, () -> restartStore.put("late", "value"));
    }

    @Test
    void aValueThatFailsToCloseIsLoggedUnderItsPlugin() throws Exception {
        registry.add(new PluginCallback("leaky", LifecycleEvent.DRAIN, (DrainCallback) context -> context.store()
                .put("socket", (AutoCloseable) () -> {
                    throw new IOException("close failed");
                }), 0, serviceId++, "test 1.0"));

        lifecycle().checkpoint(computation);

        assertTrue(log.recent(200).stream().anyMatch(e -> e.actor().equals("leaky") && e.status().equals("warning")
                && e.message().contains("close failed")), log.recent(200).toString());
    }
}
