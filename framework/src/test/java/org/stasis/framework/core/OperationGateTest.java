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

    @Test
    void aWaitingCheckpointGoesInWhenTheOneBeforeItLeavesNotAtItsNextPoll() throws Exception {
        OperationGate slowPoll = new OperationGate(line -> {
        }, 3_600_000);
        slowPoll.enter("checkpoint", false, () -> false);
        java.util.concurrent.CompletableFuture<Void> second = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                slowPoll.enter("checkpoint", false, () -> false);
            } catch (OperationFailedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (!slowPoll.busy()) {
            Thread.onSpinWait();
        }
        Thread.sleep(100);                 // the second one is waiting by now
        assertFalse(second.isDone());
        slowPoll.leave();
        second.get(60, java.util.concurrent.TimeUnit.SECONDS);   // an hour without the wake-up
        assertTrue(slowPoll.busy());
        slowPoll.leave();
    }
}
