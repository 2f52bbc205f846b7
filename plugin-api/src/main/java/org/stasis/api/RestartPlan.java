package org.stasis.api;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What the core does to bring a checkpoint back: per process an fd table and a
 * working directory, plus path rewrites, environment changes and the pid strategy.
 * Plugins add to it in {@link RestartCallback}; the core executes it afterwards.
 */
@ProviderType
public interface RestartPlan {
    /** How restored processes get their pids. */
    enum PidStrategy {
        /** Original pids and tids, in a fresh pid namespace (the default). */
        KEEP_PIDS,
        /** New pids from the kernel; the core patches cached tids. */
        NEW_PIDS
    }

    /**
     * @param pid a process id inside the computation, as in {@link ProcessInfo#pid()}
     * @return that process's part of the plan
     * @throws IllegalArgumentException if the checkpoint has no such process
     */
    ProcessPlan process(int pid);

    /**
     * Rewrites paths starting with {@code from} to start with {@code to} wherever the
     * core reopens a path (used to restart from another place or host).
     *
     * @param from an absolute path prefix as it was at checkpoint time
     * @param to its replacement
     */
    void rewritePath(String from, String to);

    /** @return the path rewrites so far, in the order they were added */
    Map<String, String> pathRewrites();

    /**
     * Where a path recorded at checkpoint time is now, after the path rewrites: the
     * first rule whose prefix matches whole path components applies. The core applies
     * this itself when it reopens a path; plugins use it to check a file's presence.
     *
     * @param path an absolute path as it was at checkpoint time
     * @return the path to use at restart
     */
    default String rewrite(String path) {
        for (Map.Entry<String, String> rule : pathRewrites().entrySet()) {
            if (path.equals(rule.getKey()) || path.startsWith(rule.getKey() + "/")) {
                return rule.getValue() + path.substring(rule.getKey().length());
            }
        }
        return path;
    }

    /**
     * Sets an environment variable in every restored process.
     *
     * @param name the variable
     * @param value its value
     */
    void setEnvironment(String name, String value);

    /** @return the environment changes so far */
    Map<String, String> environment();

    /** @return the pid strategy */
    PidStrategy pidStrategy();

    /** @param strategy the pid strategy to use */
    void pidStrategy(PidStrategy strategy);
}
