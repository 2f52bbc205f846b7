package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.Computation;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.EventLogEntry;
import org.stasis.framework.dispatch.PluginCallback;
import org.stasis.framework.dispatch.PluginRegistry;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;

class CheckpointLifecycleTest {
    @TempDir
    Path root;

    private final List<String> journal = Collections.synchronizedList(new ArrayList<>());
    private final PluginRegistry registry = new PluginRegistry();
    private final EventLog log = new EventLog(200);
    private final EventDispatcher dispatcher = new EventDispatcher(registry, log, Duration.ofSeconds(5));
    private final Computation computation = new NamedComputation("app",
            () -> List.of(new ProcessInfo(2, 4242, 0, "python3 train.py")));
    private final CoreSteps core = new JournalingCore(journal);
    private long serviceId = 1;

    @AfterEach
    void close() {
        dispatcher.close();
    }

    private RecordingPlugin plugin(String id, int ranking) {
        RecordingPlugin plugin = new RecordingPlugin(id, journal);
        long sid = serviceId++;
        for (LifecycleEvent event : LifecycleEvent.values()) {
            registry.add(new PluginCallback(id, event, plugin, ranking, sid, "test 1.0"));
        }
        return plugin;
    }

    private CheckpointLifecycle lifecycle() {
        return new CheckpointLifecycle(dispatcher, log, new CheckpointStore(root), core);
    }

    private List<String> pluginEvents() {
        return journal.stream().filter(s -> !s.startsWith("core:") || s.startsWith("core:release")).toList();
    }

    @Test
    void aCheckpointRunsEveryPhaseInOrderAndPublishes() throws Exception {
        plugin("first", 2);
        plugin("second", 1);

        CheckpointResult result = lifecycle().checkpoint(computation);

        assertEquals("app-1", result.id());
        assertEquals(List.of("first:preCheckpoint", "second:preCheckpoint", "core:suspend", "first:drain",
                "second:drain"), journal.subList(0, 5));
        assertTrue(journal.containsAll(List.of("first:write", "second:write", "core:write")));
        assertEquals(List.of("first:resume", "second:resume", "core:release:RESUMED:before-publish",
                "core:published:true"), journal.subList(journal.size() - 4, journal.size()));
        assertTrue(Files.isRegularFile(root.resolve("app-1/manifest.json")));
        assertEquals(root.resolve("app-1").toRealPath(), root.resolve("latest").toRealPath());
        Manifest manifest = new CheckpointStore(root).read(root.resolve("latest"));
        assertEquals(Map.of("written-by", "first"), manifest.plugins().get("first"));
        assertEquals(4242, manifest.processes().get(0).hostPid());
        assertEquals("2.img", manifest.images().get(0).image());
    }

    @Test
    void theEventLogTimesEachCoreStepOfACheckpointStagingAndFsyncApart() throws Exception {
        plugin("only", 0);

        CheckpointResult result = lifecycle().checkpoint(computation);

        List<String> steps = log.recent(200).stream()
                .filter(e -> e.operation().equals(result.id()) && e.actor().equals("core"))
                .map(EventLogEntry::step).toList();
        assertEquals(List.of("core:stage", "core:suspend", "core:write", "core:release", "core:collect",
                "core:fsync", "core:publish"), steps);
    }

    @Test
    void theProgramRunsOnWhileTheCheckpointIsMadeDurable() throws Exception {
        plugin("only", 0);
        CheckpointStore store = new CheckpointStore(root);
        CoreSteps watching = new JournalingCore(journal) {
            @Override
            public void releaseBeforePublish() {
                super.releaseBeforePublish();
                try {
                    journal.add("published yet: " + !store.list().isEmpty());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };

        new CheckpointLifecycle(dispatcher, log, store, watching).checkpoint(computation);

        assertEquals(List.of("core:release:RESUMED:before-publish", "published yet: false", "core:published:true"),
                journal.subList(journal.size() - 3, journal.size()));
    }

    @Test
    void aCheckpointThatCannotBeMadeDurableIsNotPublishedAndTheProgramHearsIt() throws Exception {
        plugin("only", 0);
        JournalingCore failing = new JournalingCore(journal);
        failing.unsyncableImages = true;
        CheckpointStore store = new CheckpointStore(root);

        OperationFailedException failure = assertThrows(OperationFailedException.class,
                () -> new CheckpointLifecycle(dispatcher, log, store, failing).checkpoint(computation));

        assertTrue(failure.getMessage().contains("app-1"), failure.getMessage());
        assertEquals("core:published:false", journal.get(journal.size() - 1));
        assertEquals(1, journal.stream().filter(s -> s.startsWith("core:release")).count(), journal.toString());
        assertTrue(store.list().isEmpty(), "a checkpoint that is not durable was published");
        try (var left = Files.list(root)) {
            assertEquals(List.of(), left.map(p -> p.getFileName().toString()).toList(), "staging left behind");
        }
    }

    @Test
    void generationsCountUpAndLatestFollows() throws Exception {
        plugin("only", 0);
        lifecycle().checkpoint(computation);
        CheckpointResult second = lifecycle().checkpoint(computation);

        assertEquals(2, second.generation());
        assertEquals(root.resolve("app-2").toRealPath(), root.resolve("latest").toRealPath());
        assertEquals(2, new CheckpointStore(root).list().size());
    }

    @Test
    void aFailingPluginAbortsResumesEveryoneAndPublishesNothing() throws Exception {
        plugin("good", 2);
        RecordingPlugin bad = plugin("bad", 1);
        lifecycle().checkpoint(computation);
        journal.clear();
        bad.failIn = "drain";

        OperationFailedException failure = assertThrows(OperationFailedException.class,
                () -> lifecycle().checkpoint(computation));

        assertTrue(failure.getMessage().contains("plugin 'bad' failed in drain: bad refuses drain"), failure.getMessage());
        assertFalse(journal.contains("good:write"), "write ran after an aborted drain");
        assertTrue(journal.contains("good:resume") && journal.contains("bad:resume"));
        assertEquals("ABORTED", bad.lastOutcome);
        assertTrue(journal.contains("core:release:ABORTED"));
        assertFalse(Files.exists(root.resolve("app-2")), "an aborted checkpoint was published");
        try (var entries = Files.list(root)) {
            assertEquals(List.of("app-1", "latest"), entries.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(root.resolve("app-1").toRealPath(), root.resolve("latest").toRealPath());
    }

    @Test
    void aFailureBeforeSuspendDoesNotReleaseThreadsThatWereNeverStopped() {
        RecordingPlugin bad = plugin("bad", 0);
        bad.failIn = "preCheckpoint";

        assertThrows(OperationFailedException.class, () -> lifecycle().checkpoint(computation));

        assertEquals(List.of("bad:preCheckpoint", "bad:resume"), pluginEvents());
        assertFalse(journal.contains("core:suspend"));
    }

    @Test
    void restartRunsPluginsInReverseWithTheirRecordsThenResumes() throws Exception {
        plugin("first", 2);
        plugin("second", 1);
        lifecycle().checkpoint(computation);
        journal.clear();

        Manifest manifest = lifecycle().restart(root.resolve("latest"), computation);

        assertEquals("app-1", manifest.id());
        assertEquals(List.of("core:validate", "second:restart", "first:restart",
                "core:restore:{SEEN_second=second, SEEN_first=first}", "core:discard:[]", "first:resume", "second:resume",
                "core:release:RESTARTED"), journal);
    }

    @Test
    void aFailingRestartPluginStopsBeforeTheCoreTouchesAnything() throws Exception {
        RecordingPlugin plugin = plugin("picky", 0);
        lifecycle().checkpoint(computation);
        journal.clear();
        plugin.failIn = "restart";

        assertThrows(OperationFailedException.class, () -> lifecycle().restart(root.resolve("latest"), computation));

        assertEquals(List.of("core:validate", "picky:restart", "core:discard:[]"), journal);
    }
}
