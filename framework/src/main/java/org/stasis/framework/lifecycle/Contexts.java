package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.stasis.api.CheckpointContext;
import org.stasis.api.Computation;
import org.stasis.api.EventContext;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.OpenFd;
import org.stasis.api.OperationStore;
import org.stasis.api.ProcessAccess;
import org.stasis.api.PluginRecords;
import org.stasis.api.RestartContext;
import org.stasis.api.RestartPlan;
import org.stasis.api.ResumeContext;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.EventLogEntry;

/** The context objects plugins receive, one per plugin and event. */
final class Contexts {
    private Contexts() {
    }

    /**
     * What all contexts of one operation share.
     *
     * @param label what the event log calls the operation (the checkpoint id, or
     *        {@code <id>-restart} for a restart)
     * @param stores the plugins' operation stores, ended by the lifecycle with the operation
     */
    record Operation(String label, String checkpointId, long generation, Computation computation,
            Path checkpointDirectory, EventLog log, CoreSteps core, Map<String, String> options,
            Consumer<String> warnings, OperationStores stores, SpanOperation span) {
        Operation(String label, String checkpointId, long generation, Computation computation,
                Path checkpointDirectory, EventLog log, CoreSteps core, Map<String, String> options,
                Consumer<String> warnings) {
            this(label, checkpointId, generation, computation, checkpointDirectory, log, core, options, warnings,
                    new OperationStores(label), SpanOperation.NONE);
        }

        Operation(String label, String checkpointId, long generation, Computation computation,
                Path checkpointDirectory, EventLog log, CoreSteps core) {
            this(label, checkpointId, generation, computation, checkpointDirectory, log, core, Map.of(), w -> {
            });
        }

        /** Drops the plugins' stores; a value that fails to close is logged under its plugin. */
        void end() {
            stores.end((pluginId, e) -> log.add(new EventLogEntry(Instant.now(), label, "core:end", pluginId, 0,
                    "warning", "closing a value of its operation store failed: " + e)));
        }
    }

    private abstract static class Base implements EventContext {
        private static final int MAX_EXCHANGE = 16 << 20;
        private final Operation operation;
        private final LifecycleEvent event;
        private final String pluginId;
        private final boolean createDirectory;

        Base(Operation operation, LifecycleEvent event, String pluginId, boolean createDirectory) {
            this.operation = operation;
            this.event = event;
            this.pluginId = pluginId;
            this.createDirectory = createDirectory;
        }

        Operation operation() {
            return operation;
        }

        @Override
        public LifecycleEvent event() {
            return event;
        }

        @Override
        public Computation computation() {
            return operation.computation();
        }

        @Override
        public String checkpointId() {
            return operation.checkpointId();
        }

        @Override
        public long generation() {
            return operation.generation();
        }

        @Override
        public Path pluginDirectory() {
            Path directory = operation.checkpointDirectory().resolve("plugins").resolve(pluginId);
            if (createDirectory) {
                try {
                    Files.createDirectories(directory);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot create " + directory, e);
                }
            }
            return directory;
        }

        @Override
        public void log(String message) {
            log("info", message);
        }

        @Override
        public OperationStore store() {
            return operation.stores().of(pluginId);
        }

        @Override
        public String part() {
            return operation.span().part();
        }

        @Override
        public List<String> parts() {
            return operation.span().parts();
        }

        @Override
        public Map<String, byte[]> exchange(String topic, byte[] mine) throws IOException {
            if (topic == null || topic.isEmpty() || mine == null) {
                throw new IllegalArgumentException("exchange needs a topic and bytes");
            }
            if (mine.length > MAX_EXCHANGE) {
                throw new IllegalArgumentException("exchange of " + mine.length + " bytes, more than the limit of "
                        + MAX_EXCHANGE);
            }
            return operation.span().exchange(pluginId, event, topic, mine);
        }

        void log(String status, String message) {
            operation.log().add(new EventLogEntry(Instant.now(), operation.label(), event.displayName(),
                    pluginId, 0, status, message));
        }
    }

    static final class Checkpoint extends Base implements CheckpointContext {
        private final PluginRecords records;

        Checkpoint(Operation operation, LifecycleEvent event, String pluginId, PluginRecords records) {
            super(operation, event, pluginId, true);
            this.records = records;
        }

        @Override
        public PluginRecords records() {
            return records;
        }

        @Override
        public List<OpenFd> openFds(int pid) {
            return running() ? List.of() : operation().core().openFds(pid);
        }

        @Override
        public Optional<byte[]> terminalSettings(int pid, int fd) {
            return running() ? Optional.empty() : operation().core().terminalSettings(pid, fd);
        }

        @Override
        public ProcessAccess processes() {
            return running() ? RunningProcesses.INSTANCE : operation().core().processes();
        }

        // During preCheckpoint the processes still run: nothing the agents report is valid yet.
        private boolean running() {
            return event() == LifecycleEvent.PRE_CHECKPOINT;
        }

        @Override
        public Optional<String> option(String name) {
            return Optional.ofNullable(operation().options().get(name));
        }
    }

    static final class Restart extends Base implements RestartContext {
        private final PluginRecords records;
        private final RestartPlan plan;

        Restart(Operation operation, String pluginId, PluginRecords records, RestartPlan plan) {
            super(operation, LifecycleEvent.RESTART, pluginId, false);
            this.records = records;
            this.plan = plan;
        }

        @Override
        public PluginRecords records() {
            return records;
        }

        @Override
        public RestartPlan plan() {
            return plan;
        }

        @Override
        public void warn(String message) {
            log("warning", message);
            operation().warnings().accept(message);
        }
    }

    static final class Resume extends Base implements ResumeContext {
        private final Outcome outcome;

        Resume(Operation operation, String pluginId, Outcome outcome) {
            super(operation, LifecycleEvent.RESUME, pluginId, false);
            this.outcome = outcome;
        }

        @Override
        public Outcome outcome() {
            return outcome;
        }

        @Override
        public ProcessAccess processes() {
            return operation().core().processes();
        }
    }
}
