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
        gate.enter("restart of a", true, () -> false, "span-1-restart", "");
        gate.enter("restart of b", true, () -> false, "span-1-restart", "");
        OperationFailedException other = assertThrows(OperationFailedException.class,
                () -> gate.enter("restart of c", true, () -> false, "span-2-restart", ""));
        assertTrue(other.getMessage().startsWith("busy: a restart is in progress"), other.getMessage());
        assertThrows(OperationFailedException.class, () -> gate.enter("restart of d", true, () -> false));
        gate.leaveRestart(null);
        assertTrue(gate.busy(), "one restart of the group still runs");
        gate.leaveRestart(null);
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
        assertThrows(OperationFailedException.class, () -> gate.enter("restart of c", true, () -> false, "", ""));
        gate.leaveRestart(null);
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

    // fast/slow: the fast run's marks are checkpointed while its checkers are restarted in the same coordinator
    @Test
    void aCheckpointOfOneComputationDoesNotWaitForARestartOfAnother() throws Exception {
        gate.enter("restart of fs-c1-3", true, () -> false);
        gate.restarting("c2");
        gate.enter("checkpoint of c1", false, () -> false, "", "c1");
        assertTrue(gate.busy());
        assertThrows(OperationFailedException.class, () -> gate.enter("restart of fs-c1-4", true, () -> false),
                "still one restart at a time");
        gate.leave();
        gate.leaveRestart("c2");
        assertFalse(gate.busy());
    }

    @Test
    void aCheckpointWaitsForARestartOfItsOwnComputationOrOneNotNamedYet() throws Exception {
        gate.enter("restart of fs-c1-3", true, () -> false);
        OperationFailedException unnamed = assertThrows(OperationFailedException.class,
                () -> gate.enter("checkpoint of c1", false, () -> false, "", "c1"));
        assertTrue(unnamed.getMessage().startsWith("busy: a restart is in progress"), unnamed.getMessage());
        gate.restarting("c1");
        assertThrows(OperationFailedException.class, () -> gate.enter("checkpoint of c1", false, () -> false, "", "c1"));
        assertThrows(OperationFailedException.class, () -> gate.enter("checkpoint", false, () -> false),
                "a checkpoint of no particular computation waits for every restart");
        gate.leaveRestart("c1");
        gate.enter("checkpoint of c1", false, () -> false, "", "c1");
        gate.leave();
        assertFalse(gate.busy());
    }
}
