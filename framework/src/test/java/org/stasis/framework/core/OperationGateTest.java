package org.stasis.framework.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stasis.framework.lifecycle.OperationFailedException;

class OperationGateTest {
    private final OperationGate gate = new OperationGate(line -> {
    });

    @Test
    void theRestartsOfOneGroupHoldTheGateTogetherAndOthersAreRefused() throws Exception {
        gate.enter("restart of a", true, () -> false, "span-1-restart");
        gate.enter("restart of b", true, () -> false, "span-1-restart");
        OperationFailedException other = assertThrows(OperationFailedException.class,
                () -> gate.enter("restart of c", true, () -> false, "span-2-restart"));
        assertTrue(other.getMessage().startsWith("busy: a restart is in progress"), other.getMessage());
        assertThrows(OperationFailedException.class, () -> gate.enter("restart of d", true, () -> false));
        gate.leave();
        assertTrue(gate.busy(), "one restart of the group still runs");
        gate.leave();
        assertFalse(gate.busy());
        gate.enter("checkpoint", false, () -> false);
        assertTrue(gate.busy());
        gate.leave();
        assertFalse(gate.busy());
    }

    @Test
    void aRestartWithoutGroupDoesNotLetAnotherOneIn() throws Exception {
        gate.enter("restart of a", true, () -> false);
        assertThrows(OperationFailedException.class, () -> gate.enter("restart of b", true, () -> false));
        assertThrows(OperationFailedException.class, () -> gate.enter("restart of c", true, () -> false, ""));
        gate.leave();
        assertFalse(gate.busy());
    }
}
