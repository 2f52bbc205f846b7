package org.stasis.samples.hello;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;

/** The plugin's callbacks run against the test kit's fake core: no coordinator needed. */
class HelloPluginTest {
    @TempDir
    Path temp;

    @Test
    void aCheckpointAndARestartAreRemembered() throws Exception {
        HelloPlugin plugin = new HelloPlugin();
        try (FakeComputation computation = new FakeComputation(temp.resolve("plugins/hello"))) {
            int[] pipe = computation.descriptors().pipe();
            computation.process(1, pipe[0], pipe[1]);

            plugin.preCheckpoint(computation.checkpoint(LifecycleEvent.PRE_CHECKPOINT));
            plugin.drain(computation.checkpoint(LifecycleEvent.DRAIN));
            plugin.write(computation.checkpoint());
            plugin.resume(computation.resume(ResumeContext.Outcome.RESUMED));
            plugin.restart(computation.restart());
            plugin.resume(computation.resume(ResumeContext.Outcome.RESTARTED));

            assertEquals("3", computation.records().get("events-seen"));
            assertTrue(Files.readString(temp.resolve("plugins/hello/events.txt")).contains("write"));
            assertEquals(6, plugin.events().lines().count(), plugin.events());
            assertTrue(plugin.events().endsWith("resume restarted"), plugin.events());
            assertTrue(computation.log().contains("hello received restart"), computation.log().toString());
        }
    }
}
