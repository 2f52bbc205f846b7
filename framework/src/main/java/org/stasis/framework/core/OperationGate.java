package org.stasis.framework.core;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.stasis.framework.lifecycle.OperationFailedException;

/**
 * One checkpoint or restart of a coordinator at a time. An operation that finds a
 * restart under way is refused at once ("busy"): a restart can wait for its restorer
 * for a long time, and a client must not hang behind it. One that finds a checkpoint
 * waits for it, as long as its client is still there: a request whose client left is
 * dropped, never run later.
 */
final class OperationGate {
    // How often a waiter looks whether its client left; a leave() wakes it at once.
    private static final long POLL_MS = 50;
    private static final Duration BUSY_GRACE = Duration.ofSeconds(1);

    // A semaphore, not a lock: a restart enters in the command's thread and leaves in its own.
    private final Semaphore permit = new Semaphore(1);
    private volatile String holder = "";
    private volatile boolean restartHolds;
    private volatile long since;
    private final Consumer<String> dropped;
    // the restarts of one span restart (the parts placed on this host) hold the gate together
    private String group = "";
    private int holders;

    private final long pollMillis;

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
     * @param what what wants in, for messages ({@code checkpoint}, {@code restart of rf-3})
     * @param restart whether it is a restart
     * @param gone whether its client has left
     * @throws OperationFailedException if a restart is under way, or the client left while it waited
     */
    void enter(String what, boolean restart, BooleanSupplier gone) throws OperationFailedException {
        enter(what, restart, gone, "");
    }

    /**
     * Like {@link #enter(String, boolean, BooleanSupplier)}; a restart of a group that
     * holds the gate joins it at once (the parts of one span restart placed here run at
     * once), the gate opens when the last of them left.
     *
     * @param what as above
     * @param restart as above
     * @param gone as above
     * @param group the span restart's id, empty for none
     * @throws OperationFailedException as above
     */
    void enter(String what, boolean restart, BooleanSupplier gone, String group) throws OperationFailedException {
        long waiting = System.nanoTime();
        try {
            while (!tryEnter(what, restart, group)) {
                // a restart that just failed is still giving the gate back: a short grace first
                if (restartHolds && System.nanoTime() - waiting > BUSY_GRACE.toNanos()) {
                    throw new OperationFailedException("busy: a restart is in progress (" + holder + ", for "
                            + Duration.ofNanos(System.nanoTime() - since).toSeconds() + " s); " + what
                            + " was not started, try again when it ends", null);
                }
                if (gone.getAsBoolean()) {
                    String line = what + " dropped: its client left while it waited for " + holder;
                    dropped.accept(line);
                    throw new OperationFailedException(line, null);
                }
                awaitLeave();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OperationFailedException(what + " was interrupted while it waited for " + holder, e);
        }
    }

    // Woken by leave(): a mark's checkpoint that waited for the previous one's publication
    // starts when that one ends, not up to a poll later.
    private synchronized void awaitLeave() throws InterruptedException {
        if (permit.availablePermits() == 0) {
            wait(pollMillis);
        }
    }

    private synchronized boolean tryEnter(String what, boolean restart, String group) {
        if (!group.isEmpty() && group.equals(this.group) && holders > 0) {
            holders++;
            return true;
        }
        if (!permit.tryAcquire()) {
            return false;
        }
        this.group = group;
        holders = 1;
        holder = what;
        restartHolds = restart;
        since = System.nanoTime();
        return true;
    }

    /** @return whether a checkpoint or restart is under way */
    boolean busy() {
        return permit.availablePermits() == 0;
    }

    /** Ends the operation that entered last (of a group: the gate opens when the last one left). */
    synchronized void leave() {
        if (--holders > 0) {
            return;
        }
        holders = 0;
        group = "";
        restartHolds = false;
        holder = "";
        permit.release();
        notifyAll();
    }
}
