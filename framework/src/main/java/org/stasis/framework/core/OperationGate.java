package org.stasis.framework.core;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.stasis.framework.lifecycle.OperationFailedException;

/**
 * One checkpoint at a time and one restart at a time in a coordinator, each in its own
 * lane: a checkpoint of one computation does not wait for a restart of another one
 * (fast/slow's checkers are restarted while the fast run is checkpointed at every mark),
 * it waits only for a restart of its own computation, or one whose computation is not
 * named yet. A restart that finds another restart under way is refused at once
 * ("busy"): a restart can wait for its restorer for a long time, and a client must not
 * hang behind it; so is a checkpoint that waited a moment for a restart of its
 * computation. A checkpoint that finds a checkpoint waits for it, as long as its client
 * is still there: a request whose client left is dropped, never run later.
 */
final class OperationGate {
    // How often a waiter looks whether its client left; a leave() wakes it at once.
    private static final long POLL_MS = 50;
    private static final Duration BUSY_GRACE = Duration.ofSeconds(1);

    private final Lane checkpoints = new Lane();
    private final Lane restarts = new Lane();
    // the computations the restarts under way continue, and how many did not name theirs yet
    private final Map<String, Integer> restarting = new HashMap<>();
    private int unnamed;
    private final Consumer<String> dropped;
    private final long pollMillis;

    // One lane: its holder, or the restarts of one span restart (the parts placed on this host) together.
    private static final class Lane {
        private String holder = "";
        private long since;
        private String group = "";
        private int holders;

        boolean tryEnter(String what, String group) {
            if (holders > 0 && !group.isEmpty() && group.equals(this.group)) {
                holders++;
                return true;
            }
            if (holders > 0) {
                return false;
            }
            this.group = group;
            holders = 1;
            holder = what;
            since = System.nanoTime();
            return true;
        }

        void leave() {
            if (--holders > 0) {
                return;
            }
            holders = 0;
            group = "";
            holder = "";
        }
    }

    /** @param dropped hears one line for each request dropped because its client left */
    OperationGate(Consumer<String> dropped) {
        this(dropped, POLL_MS);
    }

    /**
     * @param dropped as above
     * @param pollMillis how often a waiter checks whether its client left
     */
    OperationGate(Consumer<String> dropped, long pollMillis) {
        this.dropped = dropped;
        this.pollMillis = pollMillis;
    }

    /**
     * A restart enters without a computation ({@link #restarting} names it), a
     * checkpoint of no particular computation waits for every restart.
     *
     * @param what what wants in, for messages ({@code checkpoint}, {@code restart of rf-3})
     * @param restart whether it is a restart
     * @param gone whether its client has left
     * @throws OperationFailedException if a restart is under way, or the client left while it waited
     */
    void enter(String what, boolean restart, BooleanSupplier gone) throws OperationFailedException {
        enter(what, restart, gone, "", "");
    }

    /**
     * Like {@link #enter(String, boolean, BooleanSupplier)}; a restart of a group that
     * holds the restart lane joins it at once (the parts of one span restart placed here
     * run at once), the lane opens when the last of them left.
     *
     * @param what as above
     * @param restart as above
     * @param gone as above
     * @param group the span operation's id, empty for none
     * @param computation a checkpoint's computation (it waits for the restarts of that
     *        one only); empty: a restart, or a checkpoint that waits for every restart
     * @throws OperationFailedException as above
     */
    void enter(String what, boolean restart, BooleanSupplier gone, String group, String computation)
            throws OperationFailedException {
        long waiting = System.nanoTime();
        try {
            while (!tryEnter(what, restart, group, computation)) {
                // a restart that just failed is still giving the lane back: a short grace first
                String restart0 = blockingRestart(restart, computation);
                if (restart0 != null && System.nanoTime() - waiting > BUSY_GRACE.toNanos()) {
                    throw new OperationFailedException("busy: a restart is in progress (" + restart0 + "); " + what
                            + " was not started, try again when it ends", null);
                }
                if (gone.getAsBoolean()) {
                    String line = what + " dropped: its client left while it waited for " + holder(restart);
                    dropped.accept(line);
                    throw new OperationFailedException(line, null);
                }
                awaitLeave();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OperationFailedException(what + " was interrupted while it waited for " + holder(restart), e);
        }
    }

    // Woken by leave(): a mark's checkpoint that waited for the previous one's publication
    // starts when that one ends, not up to a poll later.
    private synchronized void awaitLeave() throws InterruptedException {
        wait(pollMillis);
    }

    private synchronized String holder(boolean restart) {
        String checkpoint = checkpoints.holder;
        return restart || checkpoint.isEmpty() ? restarts.holder : checkpoint;
    }

    // the restart that keeps an operation out, with how long it runs; null if none does
    private synchronized String blockingRestart(boolean restart, String computation) {
        boolean blocked = restarts.holders > 0 && (restart || touches(computation));
        return blocked ? restarts.holder + ", for " + Duration.ofNanos(System.nanoTime() - restarts.since).toSeconds()
                + " s" : null;
    }

    private boolean touches(String computation) {
        return computation.isEmpty() || unnamed > 0 || restarting.containsKey(computation);
    }

    private synchronized boolean tryEnter(String what, boolean restart, String group, String computation) {
        if (restart) {
            if (!restarts.tryEnter(what, group)) {
                return false;
            }
            unnamed++;
            return true;
        }
        if (restarts.holders > 0 && touches(computation)) {
            return false;
        }
        return checkpoints.tryEnter(what, group);
    }

    /**
     * Names the computation a restart that entered continues: checkpoints of other
     * computations no longer wait for it.
     *
     * @param computation its id
     */
    synchronized void restarting(String computation) {
        if (unnamed > 0) {
            unnamed--;
        }
        restarting.merge(computation, 1, Integer::sum);
        notifyAll();
    }

    /** @return whether a checkpoint or restart is under way */
    synchronized boolean busy() {
        return checkpoints.holders > 0 || restarts.holders > 0;
    }

    /** Ends a checkpoint (of a group: the lane opens when the last one left). */
    synchronized void leave() {
        checkpoints.leave();
        notifyAll();
    }

    /**
     * Ends a restart (of a group: the lane opens when the last one left).
     *
     * @param computation what {@link #restarting} named, null if it named nothing
     */
    synchronized void leaveRestart(String computation) {
        if (computation == null) {
            unnamed = Math.max(0, unnamed - 1);
        } else {
            restarting.computeIfPresent(computation, (k, n) -> n > 1 ? n - 1 : null);
        }
        restarts.leave();
        notifyAll();
    }
}
