package org.stasis.framework.commands;

import org.stasis.framework.util.Json;
import org.stasis.framework.util.Table;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.core.Coordinator;

/**
 * What {@code stasis coordinators} asks each running coordinator ({@code about}), and
 * how a coordinator started by {@code launch} is told to stay ({@code keepcoordinator}).
 */
@Component(service = CoordinatorCommands.class)
@GogoCommand(scope = "stasis", function = { "about", "keepcoordinator", "memberof" })
public class CoordinatorCommands {
    private final Coordinator coordinator;
    private final Json json = new Json();

    /** @param coordinator the coordinator the commands describe */
    @Activate
    public CoordinatorCommands(@Reference Coordinator coordinator) {
        this.coordinator = coordinator;
    }

    /** @return the main coordinator this one is a member of ({@code HOST:PORT}), empty if none */
    @Descriptor("the main coordinator (HOST:PORT) this one has joined, nothing if none (used by 'stasis launch"
            + " --coordinator' to find this host's member)")
    public String memberof() {
        return coordinator.memberLink().map(link -> link.main()).orElse("");
    }

    /**
     * @param asJson print JSON
     * @param tsv print one line of tab-separated fields (name, pid, uptime, computations, port, directory)
     * @return this coordinator: name, pid, computations, checkpoint directory, uptime, TCP port
     */
    @Descriptor("describe this coordinator: name, pid, computations, checkpoint directory, uptime, TCP port")
    public String about(
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("print one tab-separated line") @Parameter(names = "--tsv", presentValue = "true",
                    absentValue = "false") boolean tsv) {
        List<String> ids = new ArrayList<>(coordinator.computations().running());
        long uptime = Duration.between(coordinator.started(), Instant.now()).toSeconds();
        int port = coordinator.controlPort();
        if (asJson) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("name", coordinator.name());
            out.put("pid", ProcessHandle.current().pid());
            out.put("computations", ids.size());
            out.put("computationIds", ids);
            out.put("checkpointDirectory", coordinator.checkpointDirectory().toString());
            out.put("started", coordinator.started());
            out.put("uptimeSeconds", uptime);
            out.put("port", port == 0 ? null : port);
            out.put("exitsWhenIdle", coordinator.exitWhenIdle());
            return json.write(out);
        }
        String computations = ids.size() + (ids.isEmpty() ? "" : " (" + String.join(",", ids) + ")");
        String portText = port == 0 ? "-" : Integer.toString(port);
        if (tsv) {
            return String.join("\t", coordinator.name(), Long.toString(ProcessHandle.current().pid()),
                    uptime(uptime), computations, portText, coordinator.checkpointDirectory().toString());
        }
        Table table = new Table("NAME", "PID", "UPTIME", "COMPUTATIONS", "PORT", "CHECKPOINT DIRECTORY");
        table.row(coordinator.name(), ProcessHandle.current().pid(), uptime(uptime), computations, portText,
                coordinator.checkpointDirectory());
        return table.toString();
    }

    /** @return a confirmation */
    @Descriptor("keep this coordinator running after its last computation ended (one 'stasis launch' started)")
    public String keepcoordinator() {
        coordinator.exitWhenIdle(false);
        return "coordinator '" + coordinator.name() + "' stays until stasis shutdown";
    }

    /**
     * @param seconds a duration
     * @return it the way people read it: 42s, 5m03s, 2h07m, 3d04h
     */
    static String uptime(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format("%dm%02ds", seconds / 60, seconds % 60);
        }
        if (seconds < 86400) {
            return String.format("%dh%02dm", seconds / 3600, seconds % 3600 / 60);
        }
        return String.format("%dd%02dh", seconds / 86400, seconds % 86400 / 3600);
    }
}
