package org.stasis.framework.lifecycle;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

import org.stasis.api.Computation;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.EventLogEntry;
import org.stasis.framework.dispatch.PluginFailedException;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;
import org.stasis.framework.store.Staging;

/**
 * The order of a checkpoint and of a restart (DESIGN.md, Lifecycle): plugin events
 * around the core's own steps, each a barrier, with abort on the first failure.
 * Whatever happens after the first event, plugins get {@code resume} and the threads
 * run again; a failed checkpoint leaves nothing in the store.
 */
public final class CheckpointLifecycle {
    private final EventDispatcher dispatcher;
    private final EventLog log;
    private final CheckpointStore store;
    private final CoreSteps core;
    private final Lineages lineages;

    /**
     * @param dispatcher runs plugin events
     * @param log where core steps are recorded
     * @param store where checkpoints are published
     * @param core the core's own steps
     */
    public CheckpointLifecycle(EventDispatcher dispatcher, EventLog log, CheckpointStore store, CoreSteps core) {
        this(dispatcher, log, store, core, new Lineages());
    }

    /**
     * @param dispatcher runs plugin events
     * @param log where core steps are recorded
     * @param store where checkpoints are published
     * @param core the core's own steps
     * @param lineages the lineages of the running computations, updated by every
     *        checkpoint and restart
     */
    public CheckpointLifecycle(EventDispatcher dispatcher, EventLog log, CheckpointStore store, CoreSteps core,
            Lineages lineages) {
        this.dispatcher = dispatcher;
        this.log = log;
        this.store = store;
        this.core = core;
        this.lineages = lineages;
    }

    /**
     * Takes and publishes one checkpoint.
     *
     * @param computation what to checkpoint
     * @return the published checkpoint
     * @throws OperationFailedException if a plugin or a core step failed; nothing was published
     */
    public CheckpointResult checkpoint(Computation computation) throws OperationFailedException {
        return checkpoint(computation, Progress.NONE);
    }

    /**
     * Takes and publishes one checkpoint, telling {@code progress} where it is.
     *
     * @param computation what to checkpoint
     * @param progress hears the phases
     * @return the published checkpoint
     * @throws OperationFailedException if a plugin or a core step failed; nothing was published
     */
    public CheckpointResult checkpoint(Computation computation, Progress progress) throws OperationFailedException {
        return checkpoint(computation, progress, Map.of());
    }

    /**
     * Takes and publishes one checkpoint with the computation's checkpoint options,
     * which plugins read and the manifest records.
     *
     * @param computation what to checkpoint
     * @param progress hears the phases
     * @param options the options in force (e.g. {@code save-files})
     * @return the published checkpoint
     * @throws OperationFailedException if a plugin or a core step failed; nothing was published
     */
    public CheckpointResult checkpoint(Computation computation, Progress progress, Map<String, String> options)
            throws OperationFailedException {
        return checkpoint(computation, progress, options, false);
    }

    /**
     * Takes and publishes one checkpoint: incremental over the computation's previous
     * checkpoint in the same directory where its processes can (only the pages written
     * since), unless {@code full}.
     *
     * @param computation what to checkpoint
     * @param progress hears the phases
     * @param options the options in force (e.g. {@code save-files})
     * @param full write every image whole
     * @return the published checkpoint
     * @throws OperationFailedException if a plugin or a core step failed; nothing was published
     */
    public CheckpointResult checkpoint(Computation computation, Progress progress, Map<String, String> options,
            boolean full) throws OperationFailedException {
        return checkpoint(computation, progress, options, full, SpanOperation.NONE);
    }

    /**
     * Takes and publishes one part of a checkpoint of a computation that spans hosts
     * (doc/several-hosts.md): the same steps, with {@code span}'s barrier between them;
     * any part's failure aborts every part.
     *
     * @param computation what to checkpoint (this host's part)
     * @param progress hears the phases
     * @param options the options in force (e.g. {@code save-files})
     * @param full write every image whole
     * @param span the other parts; {@link SpanOperation#NONE} on one host
     * @return the published checkpoint
     * @throws OperationFailedException if a plugin, a core step or another part failed; nothing was published
     */
    public CheckpointResult checkpoint(Computation computation, Progress progress, Map<String, String> options,
            boolean full, SpanOperation span) throws OperationFailedException {
        try {
            return checkpointPart(computation, progress, options, full, span);
        } finally {
            span.end();
        }
    }

    // The other parts hear of the failure before this part resumes (their resume may exchange with it).
    private static OperationFailedException aborted(SpanOperation span, OperationFailedException e) {
        span.abort(e.getMessage());
        return e;
    }

    private CheckpointResult checkpointPart(Computation computation, Progress progress, Map<String, String> options,
            boolean full, SpanOperation span) throws OperationFailedException {
        long start = System.nanoTime();
        Staging staging;
        try {
            staging = store.begin(computation.name());
        } catch (Exception e) {
            throw new OperationFailedException("cannot create a checkpoint in " + store.root() + ": " + e.getMessage(), e);
        }
        logCore(staging.id(), "stage", start, "ok", "");
        progress.staging(staging.directory());
        Map<String, String> fixed = Map.copyOf(options);
        Contexts.Operation operation = new Contexts.Operation(staging.id(), staging.id(), staging.generation(), computation,
                staging.directory(), log, core, fixed, w -> {
                }, new OperationStores(staging.id()), span);
        Map<String, Records> records = new ConcurrentHashMap<>();
        boolean suspended = false;
        boolean released = false;
        Outcome outcome = Outcome.ABORTED;
        try {
            cancelIfGone(staging.id(), "before it started", progress);
            span.begin(staging.id(), staging.generation());
            progress.phase("preCheckpoint");
            checkpointEvent(LifecycleEvent.PRE_CHECKPOINT, operation, records);
            span.reach(SpanOperation.Barrier.PREPARED, null);
            cancelIfGone(staging.id(), "before its processes were suspended", progress);
            progress.phase("suspend");
            coreStep(staging.id(), "suspend", () -> core.suspend(staging.id()));
            suspended = true;
            span.reach(SpanOperation.Barrier.SUSPENDED, null);
            cancelIfGone(staging.id(), "while its processes were suspended", progress);
            progress.phase("drain");
            checkpointEvent(LifecycleEvent.DRAIN, operation, records);
            span.reach(SpanOperation.Barrier.DRAINED, null);
            cancelIfGone(staging.id(), "while its processes were suspended", progress);
            progress.phase("write");
            Lineages.Entry lineage = lineages.of(computation.processes());
            Path parent = full ? null
                    : Incremental.parentOf(store, lineages.bases(), lineage.parent(), note -> note(staging.id(), note));
            List<ProcessImage> snapshotted = writeInParallel(staging, operation, records, parent,
                    fixed.get("compress"));
            span.reach(SpanOperation.Barrier.WRITTEN, new SpanOperation.PartCheckpoint(staging.id(),
                    store.root().resolve(staging.id()).toString(), snapshotted.size()));
            // The program runs on while copy-on-write snapshots write the images and the
            // checkpoint is described and made durable: everything it holds is in the snapshots
            // and records by now. The caller still hears of it only once it is published.
            List<org.stasis.api.ProcessInfo> processes = List.copyOf(computation.processes());   // as suspended
            progress.phase("resume");
            resume(operation, Outcome.RESUMED, suspended, true);
            released = true;
            progress.phase("publish");
            Path published;
            List<ProcessImage> images;
            Manifest manifest;
            try {
                images = coreStepReturning(staging.id(), "collect", () -> core.awaitImages(snapshotted));
                String base = Incremental.baseOf(staging.directory(), images, lineage.parent());
                manifest = manifest(staging, computation, processes, images, records, lineage, fixed, base, span);
                coreStep(staging.id(), "fsync", () -> store.seal(staging, manifest));
                span.reach(SpanOperation.Barrier.SEALED, null);
                published = coreStepReturning(staging.id(), "publish", () -> store.publishSealed(staging));
            } catch (Exception e) {
                core.published(false);
                throw e;
            }
            lineages.bases().published(published, manifest.base());
            core.published(true);
            lineages.checkpointed(lineage, staging.id(), manifest.processes());
            outcome = Outcome.RESUMED;
            return new CheckpointResult(staging.id(), staging.generation(), published,
                    Duration.ofNanos(System.nanoTime() - start), images);
        } catch (PluginFailedException e) {
            throw aborted(span, new OperationFailedException("checkpoint " + staging.id() + " aborted: "
                    + e.getMessage(), e));
        } catch (OperationFailedException e) {
            throw aborted(span, e);
        } catch (Exception e) {
            throw aborted(span, new OperationFailedException("checkpoint " + staging.id() + " aborted: "
                    + e.getMessage(), e));
        } finally {
            if (outcome == Outcome.ABORTED) {
                store.discard(staging);
            }
            try {
                if (!released) {
                    resume(operation, outcome, suspended);
                }
            } finally {
                operation.end();
            }
        }
    }

    /**
     * Restarts a checkpoint: validates it, lets plugins build the plan (in reverse
     * order), has the core recreate the processes, then resumes them.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param computation the computation the restored processes join
     * @return the manifest of the restarted checkpoint
     * @throws CheckpointInvalidException if the checkpoint cannot be used; nothing was changed
     * @throws OperationFailedException if a plugin or the core failed
     */
    public Manifest restart(Path checkpoint, Computation computation)
            throws CheckpointInvalidException, OperationFailedException {
        return restart(checkpoint, computation, false);
    }

    /**
     * Restarts a checkpoint, optionally one the ownership rule would refuse.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param computation the computation the restored processes join
     * @param trusted the user's {@code --trust}: a foreign checkpoint is restarted, and the
     *        event log says so
     * @return the manifest of the restarted checkpoint
     * @throws CheckpointInvalidException if the checkpoint cannot be used; nothing was changed
     * @throws OperationFailedException if a plugin or the core failed
     */
    public Manifest restart(Path checkpoint, Computation computation, boolean trusted)
            throws CheckpointInvalidException, OperationFailedException {
        return restart(checkpoint, computation, trusted, RestartListener.NONE);
    }

    /** What the caller of a restart hears before the restored processes run. */
    public interface RestartListener {
        /** Hears nothing. */
        RestartListener NONE = new RestartListener() {
        };

        /** @param options the checkpoint options recorded in the manifest, once it is validated */
        default void options(Map<String, String> options) {
        }

        /** @param message a plugin's warning for the user ({@code RestartContext.warn}) */
        default void warning(String message) {
        }

        /** @return the caller's path redirects (old path to new), put into the plan before the plugins run */
        default Map<Path, Path> redirects() {
            return Map.of();
        }
    }

    /**
     * Restarts a checkpoint, telling {@code listener} its recorded options and the
     * plugins' warnings.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param computation the computation the restored processes join
     * @param trusted the user's {@code --trust}
     * @param listener hears the options and warnings
     * @return the manifest of the restarted checkpoint
     * @throws CheckpointInvalidException if the checkpoint cannot be used; nothing was changed
     * @throws OperationFailedException if a plugin or the core failed
     */
    public Manifest restart(Path checkpoint, Computation computation, boolean trusted, RestartListener listener)
            throws CheckpointInvalidException, OperationFailedException {
        return restart(checkpoint, computation, trusted, listener, SpanOperation.NONE);
    }

    /**
     * Restarts one part of a checkpoint of a computation that spans hosts: the plugins'
     * exchanges in {@code restart} and {@code resume} reach the other parts' restarts.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param computation the computation the restored processes join
     * @param trusted the user's {@code --trust}
     * @param listener hears the options and warnings
     * @param span the other parts' restarts; {@link SpanOperation#NONE} on one host
     * @return the manifest of the restarted checkpoint
     * @throws CheckpointInvalidException if the checkpoint cannot be used; nothing was changed
     * @throws OperationFailedException if a plugin or the core failed
     */
    public Manifest restart(Path checkpoint, Computation computation, boolean trusted, RestartListener listener,
            SpanOperation span) throws CheckpointInvalidException, OperationFailedException {
        try {
            return restartPart(checkpoint, computation, trusted, listener, span);
        } catch (CheckpointInvalidException | OperationFailedException | RuntimeException e) {
            span.abort(e.getMessage());
            throw e;
        } finally {
            span.end();
        }
    }

    private Manifest restartPart(Path checkpoint, Computation computation, boolean trusted, RestartListener listener,
            SpanOperation span) throws CheckpointInvalidException, OperationFailedException {
        Path directory = store.resolve(checkpoint);
        Manifest manifest = readTrusting(directory, trusted);
        core.validate(manifest, directory);
        listener.options(manifest.options());
        String id = manifest.id() + "-restart";
        Contexts.Operation operation = new Contexts.Operation(id, manifest.id(), manifest.generation(), computation,
                directory, log, core, manifest.options(), listener::warning, new OperationStores(id), span);
        try {
            restartAndResume(manifest, directory, computation, operation, listener.redirects());
        } finally {
            operation.end();
        }
        return manifest;
    }

    private void restartAndResume(Manifest manifest, Path directory, Computation computation,
            Contexts.Operation operation, Map<Path, Path> redirects) throws OperationFailedException {
        String id = operation.label();
        Plan plan = new Plan(manifest.processes());
        try {
            Redirects.checkTargets(manifest.plugins(), redirects);
            redirects.forEach(plan::redirect);
            EventDispatcher.ContextFactory contexts = callback -> new Contexts.Restart(operation,
                    callback.pluginId(), Records.readOnly(manifest.plugins().getOrDefault(callback.pluginId(), Map.of())),
                    plan);
            if (operation.span().spans()) {
                EndedPlugins ended = new EndedPlugins(operation.span(), LifecycleEvent.RESTART, contexts);
                try {
                    dispatcher.dispatch(LifecycleEvent.RESTART, id, ended);
                } finally {
                    ended.all();
                }
            } else {
                dispatcher.dispatch(LifecycleEvent.RESTART, id, contexts);
            }
            coreStep(id, "restore", () -> core.restore(manifest, directory, plan));
            lineages.restarted(manifest.lineage(), manifest.id(), computation.processes());
        } catch (PluginFailedException e) {
            throw new OperationFailedException("restart of " + manifest.id() + " failed: " + e.getMessage(), e);
        } catch (Exception e) {
            throw new OperationFailedException("restart of " + manifest.id() + " failed: " + e.getMessage(), e);
        } finally {
            core.discard(plan);
        }
        resume(operation, Outcome.RESTARTED, true);
    }

    // A checkpoint nobody waits for any more stops where that is safe: before anything is
    // written, its processes resumed by the abort path (never left suspended).
    private void cancelIfGone(String id, String when, Progress progress) throws OperationFailedException {
        if (progress.cancelled()) {
            String why = "cancelled " + when + ": the client that asked for it left; the processes run on";
            log.add(new EventLogEntry(Instant.now(), id, "core:cancel", "core", 0, "cancelled", why));
            throw new OperationFailedException("checkpoint " + id + " " + why, null);
        }
    }

    private void checkpointEvent(LifecycleEvent event, Contexts.Operation operation, Map<String, Records> records)
            throws PluginFailedException {
        EventDispatcher.ContextFactory contexts = callback -> new Contexts.Checkpoint(operation, event,
                callback.pluginId(), records.computeIfAbsent(callback.pluginId(), id -> Records.writable()));
        if (!operation.span().spans()) {
            dispatcher.dispatch(event, operation.label(), contexts);
            return;
        }
        EndedPlugins ended = new EndedPlugins(operation.span(), event, contexts);
        try {
            dispatcher.dispatch(event, operation.label(), ended);
        } finally {
            ended.all();
        }
    }

    // The core writes memory while plugins write their records: both are I/O bound.
    private List<ProcessImage> writeInParallel(Staging staging, Contexts.Operation operation,
            Map<String, Records> records, Path parent, String compress) throws Exception {
        CompletableFuture<List<ProcessImage>> images = CompletableFuture.supplyAsync(() -> {
            try {
                return coreStepReturning(staging.id(), "write", () -> core.writeImages(staging.directory(), parent,
                        compress, note -> note(staging.id(), note)));
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        try {
            checkpointEvent(LifecycleEvent.WRITE, operation, records);
        } finally {
            try {
                images.join();
            } catch (CompletionException e) {
                throw (Exception) e.getCause();
            }
        }
        return images.join();
    }

    private void resume(Contexts.Operation operation, Outcome outcome, boolean suspended) {
        resume(operation, outcome, suspended, false);
    }

    private void resume(Contexts.Operation operation, Outcome outcome, boolean suspended, boolean beforePublish) {
        EventDispatcher.ContextFactory contexts = callback -> new Contexts.Resume(operation, callback.pluginId(),
                outcome);
        if (operation.span().spans()) {
            EndedPlugins ended = new EndedPlugins(operation.span(), LifecycleEvent.RESUME, contexts);
            dispatcher.dispatchToAll(LifecycleEvent.RESUME, operation.label(), ended);
            ended.all();
        } else {
            dispatcher.dispatchToAll(LifecycleEvent.RESUME, operation.label(), contexts);
        }
        if (suspended) {
            long start = System.nanoTime();
            if (beforePublish) {
                core.releaseBeforePublish();
            } else {
                core.release(outcome);
            }
            logCore(operation.label(), "release", start, "ok",
                    outcome.name().toLowerCase() + (beforePublish ? ", before publishing" : ""));
        }
    }

    private static Manifest manifest(Staging staging, Computation computation,
            List<org.stasis.api.ProcessInfo> processes, List<ProcessImage> images,
            Map<String, Records> records, Lineages.Entry lineage, Map<String, String> options, String base,
            SpanOperation span) {
        Map<String, Map<String, String>> plugins = new LinkedHashMap<>();
        records.forEach((id, r) -> plugins.put(id, r.asMap()));
        return new Manifest(Manifest.FORMAT_VERSION, staging.id(), computation.name(), staging.generation(),
                Instant.now().toString(), System.getProperty("os.arch"), System.getProperty("os.version"),
                processes, List.copyOf(images), plugins, lineage.lineage(), lineage.parent(),
                options, computation instanceof NamedComputation named ? named.id() : null,
                computation instanceof NamedComputation named ? named.command() : null, base, span.members(),
                span.spanId(), span.spans() ? span.part() : null);
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    @FunctionalInterface
    private interface ValueStep<T> {
        T run() throws Exception;
    }

    private void coreStep(String operation, String name, Step step) throws Exception {
        coreStepReturning(operation, name, () -> {
            step.run();
            return null;
        });
    }

    private <T> T coreStepReturning(String operation, String name, ValueStep<T> step) throws Exception {
        long start = System.nanoTime();
        try {
            T value = step.run();
            logCore(operation, name, start, "ok", "");
            return value;
        } catch (Exception e) {
            logCore(operation, name, start, "failed", String.valueOf(e.getMessage()));
            throw e;
        }
    }

    private Manifest readTrusting(Path directory, boolean trusted) throws CheckpointInvalidException {
        try {
            return store.read(directory);
        } catch (CheckpointInvalidException e) {
            if (!trusted || !e.isForeign()) {
                throw e;
            }
            log.add(new EventLogEntry(Instant.now(), directory.getFileName() + "-restart", "core:trust", "core", 0,
                    "warning", "restarted with --trust although: " + e.getMessage()));
            return store.read(directory, true);
        }
    }

    // Why a checkpoint that could have been incremental is (partly) full: one line each.
    // The core's notes on the images: why one is full although a parent was given, or why
    // one was written while the program was paused rather than from a snapshot.
    private void note(String operation, String message) {
        String step = message.contains(" written while the program was paused") ? "core:snapshot" : "core:incremental";
        log.add(new EventLogEntry(Instant.now(), operation, step, "core", 0, "note", message));
    }

    private void logCore(String operation, String name, long startNanos, String status, String message) {
        log.add(new EventLogEntry(Instant.now(), operation, "core:" + name, "core",
                (System.nanoTime() - startNanos) / 1_000_000, status, message));
    }
}
