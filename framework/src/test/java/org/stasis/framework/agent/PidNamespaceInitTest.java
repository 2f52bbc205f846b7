package org.stasis.framework.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PidNamespaceInitTest {
    private final PidNamespaceInit inits = new PidNamespaceInit(Path.of("/proc"));

    @Test
    void aProcessInOurNamespaceHasNoInitToKill() {
        assertEquals(OptionalInt.empty(), inits.of((int) ProcessHandle.current().pid()));
    }

    @Test
    void aGoneProcessHasNoInit() {
        assertEquals(OptionalInt.empty(), inits.of(Integer.MAX_VALUE));
    }

    /** unshare's shell is pid 1 of a new namespace; its sleeping child finds it there. */
    @Test
    void aChildInANewPidNamespaceFindsTheShellThatIsItsInit() throws Exception {
        Process unshare = new ProcessBuilder("unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child",
                "sh", "-c", "sleep 60 & wait").start();
        try {
            ProcessHandle shell = await(unshare.toHandle(), Duration.ofSeconds(10));
            ProcessHandle sleep = await(shell, Duration.ofSeconds(10));
            assertEquals(OptionalInt.of((int) shell.pid()), inits.of((int) sleep.pid()));
            assertTrue(inits.stillInitOf((int) shell.pid(), (int) sleep.pid()));
            assertFalse(inits.stillInitOf((int) sleep.pid(), (int) sleep.pid()), "the sleep is not pid 1");
            assertFalse(inits.stillInitOf((int) unshare.pid(), (int) sleep.pid()), "unshare is outside");
        } finally {
            unshare.destroyForcibly().waitFor();
        }
    }

    private static ProcessHandle await(ProcessHandle parent, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            var child = parent.children().findFirst();
            if (child.isPresent() && Files.exists(Path.of("/proc", Long.toString(child.get().pid())))) {
                return child.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no child of " + parent.pid() + " appeared");
    }
}
