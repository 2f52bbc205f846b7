package org.stasis.framework.commands;

import org.stasis.framework.util.Table;
import java.util.List;

import org.stasis.framework.agent.Agent;
import org.stasis.framework.core.Coordinator;

/** The text of {@code stasis:status}: the coordinator's settings, then each computation with its processes. */
final class StatusText {
    private StatusText() {
    }

    static String of(Coordinator coordinator, List<String> ids) {
        StringBuilder text = new StringBuilder();
        text.append("coordinator  ").append(coordinator.name()).append('\n');
        text.append("checkpoints  ").append(coordinator.checkpointDirectory()).append('\n');
        text.append("last         ").append(coordinator.lastCheckpoint()
                .map(c -> c.id() + String.format(" (%.3f s) ", c.duration().toMillis() / 1000.0) + c.directory())
                .orElse("none yet")).append('\n');
        text.append("interval     ").append(coordinator.interval().isZero() ? "off"
                : "every " + coordinator.interval().toSeconds() + " s, next at "
                        + coordinator.nextIntervalCheckpoint().map(Object::toString).orElse("?")).append('\n');
        text.append("keep         ").append(coordinator.keep() == 0 ? "all" : "newest " + coordinator.keep()).append('\n');
        coordinator.memberLink().ifPresent(link -> text.append("member of    the main coordinator at ").append(link.main())
                .append(" as host ").append(link.host()).append(link.lostWhy() == null ? ""
                        : " (link lost: " + link.lostWhy() + ")").append('\n'));
        if (ids.isEmpty()) {
            return text.append("processes    none (start one with: stasis launch -- PROGRAM)").toString();
        }
        Table computations = new Table("COMPUTATION", "PROCESSES", "LAST-CHECKPOINT", "COMMAND");
        for (String id : ids) {
            computations.row(id, coordinator.computations().agents(id).size(),
                    coordinator.lastCheckpoint(id).map(c -> c.id()).orElse("none yet"),
                    coordinator.computations().command(id));
        }
        text.append(computations).append('\n');
        Table table = new Table("COMPUTATION", "PID", "HOST-PID", "ORIGIN", "THREADS", "RESIDENT", "COMMAND");
        for (String id : ids) {
            for (Agent agent : coordinator.computations().agents(id)) {
                ProcFacts facts = ProcFacts.of(agent.hostPid());
                table.row(id, agent.pid(), agent.hostPid(), agent.restored() ? "restarted" : "launched",
                        facts.threads(), String.format("%.1f MiB", facts.residentBytes() / 1048576.0),
                        agent.info().command());
            }
        }
        text.append(table);
        Table parts = new Table("COMPUTATION", "HOST", "PART", "STATE", "PIDS");
        boolean any = false;
        for (String id : ids) {
            for (org.stasis.framework.span.Members.Part part : coordinator.members().parts(id)) {
                any = true;
                parts.row(id, part.host(), part.part(), part.state(), part.pids().isEmpty() ? "-"
                        : String.join(",", part.pids().stream().map(String::valueOf).toList()));
            }
        }
        if (any) {
            text.append('\n').append(parts);
        }
        for (String id : ids) {
            for (String warning : coordinator.statusWarnings(id)) {
                text.append('\n').append("warning      ").append(id).append(": ").append(warning);
            }
        }
        return text.toString();
    }
}
