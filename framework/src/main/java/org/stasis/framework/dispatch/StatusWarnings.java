package org.stasis.framework.dispatch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.stasis.api.Computation;
import org.stasis.api.StatusCallback;

/**
 * The plugins' {@link StatusCallback}s: their warnings for {@code stasis status}, each
 * prefixed with the plugin's id. A callback that throws or takes longer than the budget
 * becomes a warning naming the plugin; the status is printed all the same.
 */
public final class StatusWarnings implements AutoCloseable {
    private record Entry(String pluginId, StatusCallback callback) {
    }

    private final Map<Long, Entry> callbacks = new ConcurrentSkipListMap<>();
    private final Duration budget;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "stasis-status-warnings");
        t.setDaemon(true);
        return t;
    });

    /** @param budget the time one plugin may take to answer */
    public StatusWarnings(Duration budget) {
        this.budget = budget;
    }

    /** A plugin's callback arrived (keyed by its service id). */
    public void add(long serviceId, String pluginId, StatusCallback callback) {
        callbacks.put(serviceId, new Entry(pluginId, callback));
    }

    /** A plugin's callback went. */
    public void remove(long serviceId) {
        callbacks.remove(serviceId);
    }

    /**
     * @param computation the computation asked about
     * @return the plugins' warnings, {@code "<plugin id>: <line>"}, in the order the plugins arrived
     */
    public List<String> of(Computation computation) {
        List<String> lines = new ArrayList<>();
        for (Entry entry : callbacks.values()) {
            Future<List<String>> answer = executor.submit(() -> entry.callback().warnings(computation));
            try {
                List<String> warnings = answer.get(budget.toMillis(), TimeUnit.MILLISECONDS);
                if (warnings != null) {
                    warnings.forEach(w -> lines.add(entry.pluginId() + ": " + w));
                }
            } catch (TimeoutException e) {
                answer.cancel(true);
                lines.add(entry.pluginId() + ": gave no status within " + budget.toMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return lines;
            } catch (Exception e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                lines.add(entry.pluginId() + ": cannot tell its status: " + cause);
            }
        }
        return lines;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
