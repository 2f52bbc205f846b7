package org.stasis.framework.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.stasis.api.Computation;
import org.stasis.api.ProcessInfo;

class StatusWarningsTest {
    private static final Computation COMPUTATION = new Computation() {
        @Override
        public String name() {
            return "default";
        }

        @Override
        public List<ProcessInfo> processes() {
            return List.of(new ProcessInfo(1, 100, 0, "prog"));
        }
    };

    @Test
    void eachLineNamesItsPluginAndABrokenOrSlowPluginDoesNotHideTheOthers() {
        try (StatusWarnings warnings = new StatusWarnings(Duration.ofMillis(300))) {
            warnings.add(1, "vnc", c -> List.of("the graphics server of process " + c.processes().get(0).pid() + " is gone"));
            warnings.add(2, "quiet", c -> List.of());
            warnings.add(3, "broken", c -> {
                throw new IllegalStateException("no /proc");
            });
            warnings.add(4, "slow", c -> {
                Thread.sleep(10_000);
                return List.of("never");
            });
            long start = System.nanoTime();
            List<String> lines = warnings.of(COMPUTATION);
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "the slow plugin held the status");
            assertEquals(List.of("vnc: the graphics server of process 1 is gone",
                    "broken: cannot tell its status: java.lang.IllegalStateException: no /proc",
                    "slow: gave no status within 300 ms"), lines);
            warnings.remove(1);
            warnings.remove(3);
            warnings.remove(4);
            assertEquals(List.of(), warnings.of(COMPUTATION));
        }
    }
}
