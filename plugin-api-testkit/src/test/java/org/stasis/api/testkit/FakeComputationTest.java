package org.stasis.api.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.CheckpointContext;
import org.stasis.api.FdSource;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ResumeContext;

class FakeComputationTest {
    @TempDir
    Path temp;

    @Test
    void processesHoldRealDescriptorsThatThePluginCanInspect() throws Exception {
        try (FakeComputation computation = new FakeComputation(temp.resolve("plugin"))) {
            Descriptors fds = computation.descriptors();
            int[] pipe = fds.pipe();
            int file = fds.open(temp.resolve("data"), 01 | 0100 | 02000); // O_WRONLY|O_CREAT|O_APPEND
            computation.process(1, pipe[0], file).process(2, pipe[1]);

            CheckpointContext drain = computation.checkpoint(LifecycleEvent.DRAIN);
            List<OpenFd> open = drain.openFds(1);
            assertEquals(OpenFd.Kind.PIPE, open.stream().filter(o -> o.fd() == pipe[0]).findFirst().orElseThrow().kind());
            OpenFd data = open.stream().filter(o -> o.fd() == file).findFirst().orElseThrow();
            assertEquals(temp.resolve("data").toString(), data.target());
            assertEquals(02000, data.flags() & 02000, "O_APPEND");
            ProcessAccess access = drain.processes();
            int dup = access.duplicate(1, pipe[0]);
            assertEquals(dup, access.duplicate(1, pipe[0]), "one duplicate per descriptor");
            assertTrue(access.sameOpenFile(1, pipe[0], 1, pipe[0]));
            assertTrue(!access.sameOpenFile(1, pipe[0], 2, pipe[1]));
            assertThrows(IOException.class, () -> access.duplicate(2, pipe[0]));
            assertThrows(IOException.class,
                    () -> computation.checkpoint(LifecycleEvent.PRE_CHECKPOINT).processes().duplicate(1, pipe[0]));

            computation.checkpoint().records().put("k", "v");
            computation.endOperation();
            assertThrows(IOException.class, () -> Descriptors.fdInfo(dup), "the core closes duplicates");

            int fresh = fds.pipe()[1];
            computation.restart().plan().process(2).installFd(pipe[1], new FdSource.Passed(fresh, 0));
            assertEquals("v", computation.restart().records().get("k").orElseThrow());
            assertThrows(UnsupportedOperationException.class, () -> computation.restart().records().put("k", "w"));
            assertThrows(IllegalArgumentException.class, () -> computation.restart().plan().process(3));
            assertEquals(fresh, computation.passed(2, pipe[1]));
            ResumeContext resumed = computation.resume(ResumeContext.Outcome.RESTARTED);
            assertEquals(fresh, resumed.processes().duplicate(2, pipe[1]));
            assertThrows(IOException.class, () -> resumed.processes().duplicate(1, pipe[0]), "not restored");
        }
    }

    @Test
    void aRestartAfterTheOriginalsAreGoneSeesTheRecordsAndPids() throws Exception {
        FakeComputation restarted;
        try (FakeComputation computation = new FakeComputation(temp.resolve("plugin"))) {
            int[] pipe = computation.descriptors().pipe();
            computation.process(7, pipe[0]).checkpointId("default-3", 3);
            computation.checkpoint().records().put("pipe", Descriptors.target(pipe[0]));
            computation.endOperation();
            restarted = computation.restarted();
        }
        try (restarted) {
            assertEquals("default-3", restarted.restart().checkpointId());
            assertTrue(restarted.restart().records().get("pipe").orElseThrow().startsWith("pipe:["));
            assertEquals(7, restarted.restart().computation().processes().get(0).pid());
            int[] fresh = restarted.descriptors().pipe();
            restarted.restart().plan().process(7).installFd(0, new FdSource.Passed(fresh[0], 0));
            assertEquals(fresh[0], restarted.installed().get(7).values().stream()
                    .mapToInt(source -> ((FdSource.Passed) source).descriptor()).findFirst().orElseThrow());
        }
    }

    @Test
    void theStoreLastsOneOperationAndClosesWhatIsLeftInIt() throws Exception {
        try (FakeComputation computation = new FakeComputation(temp.resolve("plugin"))) {
            computation.process(1);
            List<String> closed = new java.util.ArrayList<>();
            computation.checkpoint(LifecycleEvent.DRAIN).store().put("taken", (AutoCloseable) () -> closed.add("taken"));
            computation.checkpoint().store().put("kept", "x");
            assertEquals(List.of("taken", "kept"), computation.store().keys());
            var old = computation.resume(ResumeContext.Outcome.RESUMED).store();

            computation.endOperation();

            assertEquals(List.of("taken"), closed);
            assertThrows(IllegalStateException.class, () -> old.get("kept", String.class));
            assertEquals(List.of(), ((FakeStore) computation.restart().store()).keys(), "the next operation starts empty");
        }
    }
}
