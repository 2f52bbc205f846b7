package org.stasis.framework.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.EventContext;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.PreCheckpointCallback;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.WriteCallback;

/**
 * Runs one lifecycle event over the registered plugins, one plugin at a time in
 * their defined order, each under a time limit, logging every step. The event is a
 * barrier: it returns only when every plugin has handled it.
 */
public final class EventDispatcher implements AutoCloseable {
    /** Makes the context a plugin receives for an event. */
    @FunctionalInterface
    public interface ContextFactory {
        /**
         * @param callback the plugin about to be called
         * @return the context to pass it
         */
        EventContext contextFor(PluginCallback callback);
    }

    private final PluginRegistry registry;
    private final EventLog log;
    private volatile Duration timeout;
    private final ExecutorService executor = Executors.newCachedThreadPool(new PluginThreads());

    /**
     * @param registry the plugins
     * @param log where each step is recorded
     * @param timeout how long one plugin may take for one event before it is cut off
     */
    public EventDispatcher(PluginRegistry registry, EventLog log, Duration timeout) {
        this.registry = registry;
        this.log = log;
        this.timeout = timeout;
    }

    /** @param timeout the new time limit for one plugin and one event */
    public void timeout(Duration timeout) {
        this.timeout = timeout;
    }

    /**
     * Dispatches an event that may abort the operation: stops at the first plugin
     * that fails or times out.
     *
     * @param event the event
     * @param operation the checkpoint id or operation, for the log
     * @param contexts makes each plugin's context
     * @throws PluginFailedException naming the plugin that failed
     */
    public void dispatch(LifecycleEvent event, String operation, ContextFactory contexts)
            throws PluginFailedException {
        for (PluginCallback callback : registry.callbacksFor(event)) {
            call(callback, operation, contexts);
        }
    }

    /**
     * Dispatches an event that cannot abort anything (resume): every plugin is
     * called even when an earlier one fails.
     *
     * @param event the event
     * @param operation the checkpoint id or operation, for the log
     * @param contexts makes each plugin's context
     * @return the failures, empty when every plugin succeeded
     */
    public List<PluginFailedException> dispatchToAll(LifecycleEvent event, String operation,
            ContextFactory contexts) {
        List<PluginFailedException> failures = new ArrayList<>();
        for (PluginCallback callback : registry.callbacksFor(event)) {
            try {
                call(callback, operation, contexts);
            } catch (PluginFailedException e) {
                failures.add(e);
            }
        }
        return failures;
    }

    private void call(PluginCallback callback, String operation, ContextFactory contexts)
            throws PluginFailedException {
        EventContext context = contexts.contextFor(callback);
        long start = System.nanoTime();
        Future<?> result = executor.submit(() -> {
            invoke(callback, context);
            return null;
        });
        try {
            result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            record(callback, operation, start, "ok", "");
        } catch (TimeoutException e) {
            result.cancel(true);
            String reason = "did not finish within " + describe(timeout) + " and was cut off";
            record(callback, operation, start, "timeout", reason);
            throw new PluginFailedException(callback.pluginId(), callback.event(), reason, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String reason = cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
            record(callback, operation, start, "failed", reason);
            throw new PluginFailedException(callback.pluginId(), callback.event(), reason, cause);
        } catch (InterruptedException e) {
            result.cancel(true);
            Thread.currentThread().interrupt();
            record(callback, operation, start, "failed", "interrupted");
            throw new PluginFailedException(callback.pluginId(), callback.event(), "interrupted", e);
        }
    }

    private void record(PluginCallback callback, String operation, long startNanos, String status, String message) {
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        log.add(new EventLogEntry(Instant.now(), operation, callback.event().displayName(), callback.pluginId(),
                millis, status, message));
    }

    private static void invoke(PluginCallback callback, EventContext context) throws Exception {
        Object target = callback.callback();
        switch (callback.event()) {
            case PRE_CHECKPOINT -> ((PreCheckpointCallback) target).preCheckpoint((CheckpointContext) context);
            case DRAIN -> ((DrainCallback) target).drain((CheckpointContext) context);
            case WRITE -> ((WriteCallback) target).write((CheckpointContext) context);
            case RESTART -> ((RestartCallback) target).restart((RestartContext) context);
            case RESUME -> ((ResumeCallback) target).resume((ResumeContext) context);
            default -> throw new IllegalStateException("unknown event " + callback.event());
        }
    }

    private static String describe(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    // Daemon threads named after nothing in particular: a hung plugin must not keep the JVM alive.
    private static final class PluginThreads implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable runnable) {
            Thread thread = new Thread(runnable, "stasis-plugin-call-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        }
    }
}
