package org.stasis.framework.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Checkpoints every N seconds ({@code launch --interval}, {@code stasis:interval}). An
 * interval checkpoint is skipped while the computation has no process; a failed one is
 * in the event log and the next one is tried on time.
 */
final class IntervalCheckpoints implements AutoCloseable {
    private final Runnable checkpoint;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "stasis-interval");
        thread.setDaemon(true);
        return thread;
    });
    private ScheduledFuture<?> next;
    private Duration interval = Duration.ZERO;
    private Instant due;

    IntervalCheckpoints(Runnable checkpoint) {
        this.checkpoint = checkpoint;
    }

    /** @param every the new interval; zero turns interval checkpoints off */
    synchronized void set(Duration every) {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        interval = every;
        due = null;
        if (!every.isZero()) {
            schedule();
        }
    }

    private synchronized void schedule() {
        due = Instant.now().plus(interval);
        next = timer.schedule(this::fire, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void fire() {
        try {
            checkpoint.run();
        } finally {
            synchronized (this) {
                if (!interval.isZero()) {
                    schedule();
                }
            }
        }
    }

    synchronized Duration interval() {
        return interval;
    }

    synchronized Optional<Instant> due() {
        return Optional.ofNullable(due);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
