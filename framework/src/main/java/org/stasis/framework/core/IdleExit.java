package org.stasis.framework.core;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Ends a coordinator that {@code stasis launch} or {@code restart} started for itself
 * once it has nothing left to do: no process of any computation, no checkpoint or
 * restart under way, and no control request for a grace period (so that
 * {@code launch; checkpoint; launch} and a restart right after a kill still find it).
 */
final class IdleExit implements AutoCloseable {
    private static final long CHECK_MS = 250;

    private final BooleanSupplier idle;
    private final Runnable exit;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "stasis-idle-exit");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean enabled;
    private volatile Duration grace = Duration.ofSeconds(5);
    private volatile long busySince = System.nanoTime();
    private boolean exited;

    /**
     * @param idle whether the coordinator has nothing to do right now
     * @param exit stops the coordinator (called once)
     */
    IdleExit(BooleanSupplier idle, Runnable exit) {
        this.idle = idle;
        this.exit = exit;
        timer.scheduleWithFixedDelay(this::check, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
    }

    /** @param on whether to exit when idle (a coordinator started implicitly) */
    void enabled(boolean on) {
        touch();
        enabled = on;
    }

    boolean enabled() {
        return enabled;
    }

    /** @param seconds how long to stay idle before exiting; 0 never exits */
    void grace(Duration seconds) {
        touch();
        grace = seconds;
    }

    Duration grace() {
        return grace;
    }

    /** Something happened (a control request): the grace period starts again. */
    void touch() {
        busySince = System.nanoTime();
    }

    private void check() {
        if (!idle.getAsBoolean()) {
            touch();
            return;
        }
        Duration wait = grace;
        if (!enabled || wait.isZero() || exited || System.nanoTime() - busySince < wait.toNanos()) {
            return;
        }
        exited = true;
        exit.run();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
