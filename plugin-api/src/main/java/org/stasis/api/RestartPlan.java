package org.stasis.api;

import java.nio.file.Path;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What the core does to bring a checkpoint back: per process an fd table and a
 * working directory, plus path rewrites, environment changes and the pid strategy.
 * Plugins add to it in {@link RestartCallback}; the core executes it afterwards.
 *
 * <p>Path rewrites ({@link #rewritePath}) change where the core reopens what the
 * processes had open; redirects ({@link #redirect}) also change what the restored
 * processes see when they name a path themselves.
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

    /**
     * Serves every path the restored processes use under {@code from} from {@code to}:
     * the agent inside each process maps the path names the program passes to libc
     * (open, stat, opendir, mkdir, unlink, rename, readlink, realpath, chdir, execve
     * and their relatives; the {@code *at} calls for absolute paths or
     * {@code AT_FDCWD}), in every thread and in every process forked or executed
     * later. The files the processes had open under {@code from} are reopened under
     * {@code to} too (as with {@link #rewritePath}). Matching is on whole path
     * components: {@code /a/b} covers {@code /a/b} and {@code /a/b/c}, not
     * {@code /a/bc}. A redirect lives in the processes' memory: it holds again after
     * the next checkpoint and restart, where further redirects may be added (a later
     * one whose {@code from} covers an earlier one's {@code to} moves that one too).
     *
     * @param from an absolute path, a directory (then everything under it) or one file,
     *        as the restored processes name it
     * @param to an absolute path where it really is now
     * @throws IllegalArgumentException if a path is not absolute, contains a newline
     *         or a tab, is the root, or the redirect makes a loop or a chain with
     *         another one of this plan (a path redirected twice, or {@code to} inside
     *         {@code from}): give each path its final place
     * @since 1.5
     */
    void redirect(Path from, Path to);

    /**
     * @return the redirects of this plan so far, {@code from} to {@code to}, in the
     *         order they were added (normalized absolute paths)
     * @since 1.5
     */
    Map<Path, Path> redirects();

    /** @return the pid strategy */
    PidStrategy pidStrategy();

    /** @param strategy the pid strategy to use */
    void pidStrategy(PidStrategy strategy);
}
