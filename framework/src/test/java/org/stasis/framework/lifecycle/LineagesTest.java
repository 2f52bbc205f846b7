package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.stasis.api.ProcessInfo;

class LineagesTest {
    private static final List<ProcessInfo> FIRST = List.of(new ProcessInfo(2, (int) ProcessHandle.current().pid(), 1, "a"));
    private static final List<ProcessInfo> SECOND = List.of(new ProcessInfo(2, 1, 1, "b"));

    @Test
    void aComputationKeepsItsLineageAndTheParentMoves() {
        Lineages lineages = new Lineages();
        Lineages.Entry launched = lineages.of(FIRST);
        assertNull(launched.parent());
        lineages.checkpointed(launched, "x-1", FIRST);
        Lineages.Entry next = lineages.of(FIRST);
        assertEquals(launched.lineage(), next.lineage());
        assertEquals("x-1", next.parent());
        assertEquals(launched.lineage(), lineages.lineageOf("x-1").orElseThrow());
    }

    @Test
    void anotherProgramStartsItsOwnLineage() {
        Lineages lineages = new Lineages();
        Lineages.Entry first = lineages.of(FIRST);
        lineages.checkpointed(first, "x-1", FIRST);
        Lineages.Entry other = lineages.of(SECOND);
        assertNotEquals(first.lineage(), other.lineage());
        assertNull(other.parent());
    }

    @Test
    void aRestartContinuesTheCheckpointsLineage() {
        Lineages lineages = new Lineages();
        lineages.restarted("L", "x-3", SECOND);
        Lineages.Entry restored = lineages.of(SECOND);
        assertEquals("L", restored.lineage());
        assertEquals("x-3", restored.parent());
        lineages.restarted(null, "old-1", FIRST);
        assertNotEquals("", lineages.of(FIRST).lineage());
    }
}
