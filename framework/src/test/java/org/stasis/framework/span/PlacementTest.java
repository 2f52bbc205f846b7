package org.stasis.framework.span;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

class PlacementTest {
    private static final List<String> PARTS = List.of("h1", "h2", "h3");
    private static final Set<String> KNOWN = Set.of("h1", "h2", "h3");

    @Test
    void withoutAMapThePartsGoRoundRobin() {
        assertEquals(Map.of("h1", "h1", "h2", "h2", "h3", "h1"), Placement.place(PARTS, List.of("h1", "h2"), Map.of(),
                KNOWN));
        assertEquals(Map.of("h1", "h2", "h2", "h2", "h3", "h2"), Placement.place(PARTS, List.of("h2"), Map.of(), KNOWN));
    }

    @Test
    void aMapPlacesEveryPart() {
        assertEquals(Map.of("h1", "h1", "h2", "h1", "h3", "h2"), Placement.place(PARTS, List.of("h1", "h2"),
                Map.of("h1", "h1", "h2", "h1", "h3", "h2"), KNOWN));
    }

    @Test
    void anUnknownHostOrAnUnplacedPartIsOneLine() {
        String unknown = assertThrows(IllegalArgumentException.class,
                () -> Placement.place(PARTS, List.of("h1", "h9"), Map.of(), KNOWN)).getMessage();
        assertTrue(unknown.startsWith("unknown host h9"), unknown);
        String unplaced = assertThrows(IllegalArgumentException.class,
                () -> Placement.place(PARTS, List.of("h1"), Map.of("h1", "h1", "h2", "h1"), KNOWN)).getMessage();
        assertEquals("part h3 is not placed: add h3=HOST to --map", unplaced);
        String elsewhere = assertThrows(IllegalArgumentException.class,
                () -> Placement.place(PARTS, List.of("h1"), Map.of("h1", "h2"), KNOWN)).getMessage();
        assertTrue(elsewhere.contains("which --hosts does not name"), elsewhere);
        String part = assertThrows(IllegalArgumentException.class,
                () -> Placement.place(PARTS, List.of("h1"), Map.of("h7", "h1"), KNOWN)).getMessage();
        assertTrue(part.contains("unknown part h7"), part);
        assertTrue(!unknown.contains("\n") && !unplaced.contains("\n"));
    }
}
