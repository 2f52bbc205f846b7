package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.stasis.api.ProcessInfo;

class PlanRedirectTest {
    private static Plan plan() {
        return new Plan(List.of(new ProcessInfo(2, 100, 0, "app")));
    }

    @Test
    void aRedirectIsKeptNormalizedAndRewritesReopenedPaths() {
        Plan plan = plan();
        plan.redirect(Path.of("/home/u/a/"), Path.of("/mnt/./b"));

        assertEquals(Map.of(Path.of("/home/u/a"), Path.of("/mnt/b")), plan.redirects());
        assertEquals("/mnt/b/x.log", plan.rewrite("/home/u/a/x.log"));
        assertEquals("/home/u/ab/x.log", plan.rewrite("/home/u/ab/x.log"));
    }

    @Test
    void relativePathsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> plan().redirect(Path.of("a"), Path.of("/b")));
        assertTrue(e.getMessage().contains("absolute"), e.getMessage());
    }

    @Test
    void loopsAndChainsAreRefused() {
        Plan plan = plan();
        plan.redirect(Path.of("/a"), Path.of("/b"));
        assertThrows(IllegalArgumentException.class, () -> plan.redirect(Path.of("/b"), Path.of("/a")));
        assertThrows(IllegalArgumentException.class, () -> plan.redirect(Path.of("/b"), Path.of("/c")));
        assertThrows(IllegalArgumentException.class, () -> plan.redirect(Path.of("/c"), Path.of("/a/x")));
        assertThrows(IllegalArgumentException.class, () -> plan.redirect(Path.of("/a"), Path.of("/d")));
        assertThrows(IllegalArgumentException.class, () -> plan.redirect(Path.of("/e"), Path.of("/e/f")));
        assertThrows(IllegalArgumentException.class, () -> plan.redirect(Path.of("/"), Path.of("/g")));
        plan.redirect(Path.of("/c"), Path.of("/d"));
        assertEquals(2, plan.redirects().size());
    }

    @Test
    void aFileTargetIsRefusedWhenTheCheckpointNamesFilesUnderTheOldPath() {
        Map<String, Map<String, String>> records = Map.of("file", Map.of("2.3", "{\"path\":\"/gone/a/x.db\"}"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Redirects.checkTargets(records, Map.of(Path.of("/gone/a"), Path.of("/etc/hostname"))));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
        Redirects.checkTargets(records, Map.of(Path.of("/gone/b"), Path.of("/etc/hostname")));
        Redirects.checkTargets(records, Map.of(Path.of("/gone/a"), Path.of("/tmp")));
    }
}
