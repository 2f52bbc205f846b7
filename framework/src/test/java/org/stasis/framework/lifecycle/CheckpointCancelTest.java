package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.Computation;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.PluginRegistry;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;

/** A checkpoint whose client left is cancelled where that is safe: before anything is written. */
class CheckpointCancelTest {
    @TempDir
    Path root;

    private final List<String> journal = Collections.synchronizedList(new ArrayList<>());
    private final EventLog log = new EventLog(200);
    private final EventDispatcher dispatcher = new EventDispatcher(new PluginRegistry(), log, Duration.ofSeconds(5));
    private final Computation computation = new NamedComputation("app",
            () -> List.of(new ProcessInfo(2, 4242, 0, "python3 train.py")));
    private final AtomicBoolean gone = new AtomicBoolean();

    private final CoreSteps core = new JournalingCore(journal) {
        @Override
        public void suspend(String checkpointId) {
            super.suspend(checkpointId);
            gone.set(true);                   // the client leaves while the processes are being suspended
        }
    };

    @AfterEach
    void close() {
        dispatcher.close();
    }

    @Test
    void aClientLeavingDuringSuspendAbortsTheCheckpointAndResumesTheProcesses() throws Exception {
        CheckpointLifecycle lifecycle = new CheckpointLifecycle(dispatcher, log, new CheckpointStore(root), core);

        OperationFailedException failure = assertThrows(OperationFailedException.class,
                () -> lifecycle.checkpoint(computation, Progress.cancelledWhen(Progress.NONE, gone::get)));

        assertTrue(failure.getMessage().contains("cancelled while its processes were suspended"), failure.getMessage());
        assertEquals(List.of("core:suspend", "core:release:ABORTED"), journal);
        assertTrue(log.recent(50).stream().anyMatch(e -> e.step().equals("core:cancel")), "the log does not say so");
        try (Stream<Path> left = Files.list(root)) {
            assertFalse(left.anyMatch(p -> Files.exists(p.resolve("manifest.json"))), "a cancelled checkpoint was published");
        }
    }

    @Test
    void aClientGoneBeforeTheCheckpointStartsSuspendsNothing() throws Exception {
        gone.set(true);
        CheckpointLifecycle lifecycle = new CheckpointLifecycle(dispatcher, log, new CheckpointStore(root), core);

        assertThrows(OperationFailedException.class,
                () -> lifecycle.checkpoint(computation, Progress.cancelledWhen(Progress.NONE, gone::get)));

        assertEquals(List.of(), journal);
    }
}
