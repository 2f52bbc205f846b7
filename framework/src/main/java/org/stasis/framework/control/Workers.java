package org.stasis.framework.control;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A fixed number of threads that serve complete control requests, with a short queue;
 * a request that finds both full is refused, and the client told the coordinator is busy.
 */
final class Workers implements AutoCloseable {
    private final ThreadPoolExecutor pool;
    private final Consumer<ControlRequest> server;

    /**
     * @param limits how many threads and queue places
     * @param server serves one request and closes its channel
     */
    Workers(HubLimits limits, Consumer<ControlRequest> server) {
        this.server = server;
        this.pool = new ThreadPoolExecutor(limits.workers(), limits.workers(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(Math.max(1, limits.queue())), r -> {
                    Thread thread = new Thread(r, "stasis-control-worker");
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
    }

    /**
     * @param request a complete request
     * @return false if every worker is busy and the queue is full (the caller still owns the channel)
     */
    boolean submit(ControlRequest request) {
        try {
            pool.execute(() -> server.accept(request));
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
