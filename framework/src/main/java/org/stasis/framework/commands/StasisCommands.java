package org.stasis.framework.commands;

import org.stasis.framework.util.Json;
import org.stasis.framework.util.Table;
import org.stasis.framework.control.CommandFailedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.BundleException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.api.Computation;
import org.stasis.api.LifecycleEvent;
import org.stasis.framework.core.Coordinator;
import org.stasis.framework.dispatch.EventLogEntry;
import org.stasis.framework.dispatch.PluginDescriptor;
import org.stasis.framework.lifecycle.CheckpointLifecycle;
import org.stasis.framework.lifecycle.CheckpointResult;
import org.stasis.framework.lifecycle.NamedComputation;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.RehearsalCore;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.util.Trees;

/**
 * The coordinator's shell commands in scope {@code stasis}. The command line
 * ({@code bin/stasis}) runs these same commands through the control socket.
 */
@Component(service = StasisCommands.class)
@GogoCommand(scope = "stasis", function = { "plugins", "version", "shutdown", "events", "dryrun" })
public class StasisCommands {
    private final Coordinator coordinator;
    private final BundleContext context;
    private final Json json = new Json();

    /**
     * @param coordinator the coordinator the commands act on
     * @param context the framework bundle's context
     */
    @Activate
    public StasisCommands(@Reference Coordinator coordinator, BundleContext context) {
        this.coordinator = coordinator;
        this.context = context;
    }

    /**
     * @param asJson print JSON
     * @return the plugins in the order they run at checkpoint
     */
    @Descriptor("list the plugins, the events each handles, and the order they run in")
    public String plugins(@Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean asJson) {
        List<PluginDescriptor> plugins = coordinator.registry().plugins();
        if (asJson) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (int i = 0; i < plugins.size(); i++) {
                PluginDescriptor p = plugins.get(i);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("order", i + 1);
                m.put("id", p.id());
                m.put("bundle", p.bundle());
                m.put("ranking", p.ranking());
                m.put("events", p.events().stream().map(LifecycleEvent::displayName).collect(Collectors.toList()));
                out.add(m);
            }
            return json.write(out);
        }
        if (plugins.isEmpty()) {
            return "no plugins";
        }
        Table table = new Table("ORDER", "PLUGIN", "RANKING", "EVENTS", "BUNDLE");
        for (int i = 0; i < plugins.size(); i++) {
            PluginDescriptor p = plugins.get(i);
            table.row(i + 1, p.id(), p.ranking(),
                    p.events().stream().map(LifecycleEvent::displayName).collect(Collectors.joining(",")), p.bundle());
        }
        return table + "\n(checkpoint events run top to bottom; restart runs bottom to top)";
    }

    /**
     * @param asJson print JSON
     * @return the versions of Stasis and what it runs on
     */
    @Descriptor("show the versions of Stasis, the plugin API, the OSGi framework, Java and the kernel")
    public String version(@Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean asJson) {
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("stasis", context.getBundle().getVersion().toString());
        versions.put("pluginApi", apiVersion());
        versions.put("framework", context.getBundle(0).getSymbolicName() + " " + context.getBundle(0).getVersion());
        versions.put("java", System.getProperty("java.version"));
        versions.put("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        versions.put("coordinator", coordinator.name());
        if (asJson) {
            return json.write(versions);
        }
        return versions.entrySet().stream().map(e -> String.format("%-12s %s", e.getKey(), e.getValue()))
                .collect(Collectors.joining("\n"));
    }

    /**
     * Stops the coordinator.
     *
     * @return a confirmation
     * @throws BundleException if the framework cannot be stopped
     */
    @Descriptor("stop this coordinator")
    public String shutdown() throws BundleException {
        coordinator.stopping(); // no new request from now on; this one's reply still goes out
        // Stop from another thread so this command's reply still reaches the caller.
        Thread stopper = new Thread(() -> {
            try {
                Thread.sleep(200);
                context.getBundle(0).stop();
            } catch (Exception e) {
                Thread.currentThread().interrupt();
            }
        }, "stasis-shutdown");
        stopper.setDaemon(false);
        stopper.start();
        return "coordinator '" + coordinator.name() + "' is shutting down";
    }

    /**
     * @param asJson print JSON
     * @param limit how many entries
     * @return the newest event log entries
     */
    @Descriptor("show the event log: every plugin call and core step of recent checkpoints and restarts")
    public String events(
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("how many entries (default 50)") @Parameter(names = { "-n", "--limit" }, absentValue = "50") int limit) {
        List<EventLogEntry> entries = coordinator.log().recent(limit);
        return asJson ? json.write(entries) : format(entries);
    }

    /**
     * Runs a checkpoint and a restart through every plugin without touching any
     * process, in a temporary directory that is removed afterwards.
     *
     * @param asJson print JSON
     * @return the steps of the rehearsal
     * @throws Exception if a plugin failed (the message names it)
     */
    @Descriptor("rehearse a checkpoint and a restart through every plugin, touching no process")
    public String dryrun(@Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean asJson) throws Exception {
        Path directory = Files.createTempDirectory("stasis-dryrun-");
        try {
            CheckpointLifecycle lifecycle = new CheckpointLifecycle(coordinator.dispatcher(), coordinator.log(),
                    new CheckpointStore(directory), new RehearsalCore());
            // Its own name, so the rehearsal's log entries never mix with real checkpoints'.
            Computation rehearsal = NamedComputation.empty(coordinator.name() + "-dryrun");
            Instant start = Instant.now();
            CheckpointResult result = lifecycle.checkpoint(rehearsal);
            lifecycle.restart(result.directory(), rehearsal);
            List<EventLogEntry> steps = coordinator.log().recent(Integer.MAX_VALUE).stream()
                    .filter(e -> !e.time().isBefore(start) && e.operation().startsWith(result.id()))
                    .collect(Collectors.toList());
            return asJson ? json.write(steps) : format(steps);
        } catch (OperationFailedException | CheckpointInvalidException e) {
            throw new CommandFailedException(e.getMessage(), e);
        } finally {
            Trees.delete(directory);
        }
    }

    private static String format(List<EventLogEntry> entries) {
        if (entries.isEmpty()) {
            return "no events yet";
        }
        Table table = new Table("TIME", "OPERATION", "STEP", "PLUGIN", "MS", "STATUS", "MESSAGE");
        for (EventLogEntry e : entries) {
            table.row(e.time().truncatedTo(java.time.temporal.ChronoUnit.MILLIS), e.operation(), e.step(), e.actor(), e.millis(), e.status(), e.message());
        }
        return table.toString();
    }

    // The API's contract is its package version (semantic versioning), not the bundle's.
    private static String apiVersion() {
        Bundle api = FrameworkUtil.getBundle(LifecycleEvent.class);
        return api.adapt(BundleWiring.class).getCapabilities(PackageNamespace.PACKAGE_NAMESPACE).stream()
                .filter(c -> LifecycleEvent.class.getPackageName().equals(c.getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE)))
                .map(c -> String.valueOf(c.getAttributes().get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE)))
                .findFirst().orElse("?");
    }
}
