package org.stasis.framework.commands;

import org.stasis.framework.store.CheckpointNote;
import org.stasis.framework.control.CommandFailedException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.agent.Agent;
import org.stasis.framework.agent.ComputationKill;
import org.stasis.framework.control.ClientGone;
import org.stasis.framework.core.Coordinator;
import org.stasis.framework.lifecycle.CheckpointResult;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.Progress;
import org.stasis.framework.span.RestartChoices;
import org.stasis.framework.store.ProcessImage;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.util.Json;
import org.stasis.framework.inspect.CheckpointInfo;
import org.stasis.framework.inspect.CheckpointListing;
import org.stasis.framework.inspect.CheckpointVerifier;
import org.stasis.framework.inspect.InspectionFailedException;

/**
 * Shell commands that act on the computation: checkpoint, status, kill, and the
 * restart preparation that {@code stasis restart} uses.
 */
@Component(service = ComputationCommands.class)
@GogoCommand(scope = "stasis", function = { "checkpoint", "status", "kill", "ckptdir", "restartplan", "verify",
        "interval", "keep", "list", "launchid", "info", "compact", "partlaunch", "spanrestart" })
public class ComputationCommands {
    private final Coordinator coordinator;
    private final Path restorer;
    private final Path runtime;
    private final Json json = new Json();

    /**
     * @param coordinator the coordinator the commands act on
     * @param context the framework bundle's context (for the distribution's location)
     */
    @Activate
    public ComputationCommands(@Reference Coordinator coordinator, BundleContext context) {
        this.coordinator = coordinator;
        String home = context.getProperty("stasis.home");
        this.restorer = (home == null ? Path.of(".") : Path.of(home)).resolve("bin/stasis-restore");
        Path dir;
        try {
            dir = org.stasis.framework.util.RuntimeDirectory.of(context).path();
        } catch (java.io.IOException | RuntimeException e) {
            dir = null;     // kill then works without its "killed by stasis kill" line
        }
        this.runtime = dir;
    }

    /**
     * @param session the shell session, whose console shows progress
     * @param asJson print JSON
     * @param progress show progress while it runs
     * @param note a note for the checkpoint, empty for none
     * @return a summary, and the checkpoint directory on the last line
     * @throws InterruptedException if interrupted while finishing the progress line
     */
    @Descriptor("checkpoint a computation now (the only one, or --computation ID); blocks until it is published"
            + " and prints its directory last")
    public String checkpoint(CommandSession session,
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("show the phase and bytes written while it runs (the command line adds this on a terminal)")
            @Parameter(names = "--progress", presentValue = "true", absentValue = "false") boolean progress,
            @Descriptor("a note for the checkpoint (shown by list and Python's sessions())")
            @Parameter(names = "--note", absentValue = "") String note,
            @Descriptor("the computation (see status); needed when several run")
            @Parameter(names = "--computation", absentValue = "") String computation,
            @Descriptor("write every memory image whole, not only what changed since the previous checkpoint")
            @Parameter(names = "--full", presentValue = "true", absentValue = "false") boolean full)
            throws InterruptedException {
        String id = ComputationChoice.of(coordinator.computations(), computation, "checkpoint", coordinator::heldPart)
                .orElseThrow(() -> new CommandFailedException("there is no process to checkpoint; start one with:"
                        + " stasis launch -- PROGRAM", null));
        CheckpointResult result;
        try (ProgressLine line = progress ? new ProgressLine(session.getConsole()) : null) {
            result = coordinator.checkpoint(id, Progress.cancelledWhen(line == null ? Progress.NONE : line,
                    ClientGone.of(session)), full);
        } catch (OperationFailedException e) {
            throw new CommandFailedException(e.getMessage(), e);
        }
        if (!note.isBlank()) {
            try {
                CheckpointNote.write(result.directory(), note);
            } catch (java.io.IOException e) {
                throw new CommandFailedException("checkpoint " + result.id() + " written, but not its note: "
                        + e.getMessage(), e);
            }
        }
        String base = baseOf(result.directory());
        if (asJson) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("id", result.id());
            out.put("base", base);
            out.put("computation", id);
            out.put("generation", result.generation());
            out.put("directory", result.directory().toString());
            out.put("seconds", result.duration().toMillis() / 1000.0);
            out.put("processes", result.images().stream().map(i -> Map.of("pid", i.pid(), "bytes", i.bytes(),
                    "areas", i.areas(), "image", i.image())).toList());
            out.put("deleted", coordinator.pruned(result.id()).stream().map(Path::toString).toList());
            return json.write(out);
        }
        StringBuilder text = new StringBuilder(String.format("checkpoint %s of computation %s written in %.3f s%n",
                result.id(), id, result.duration().toMillis() / 1000.0));
        for (ProcessImage image : result.images()) {
            text.append(String.format("  process %d: %.1f MiB in %d memory areas%n", image.pid(),
                    image.bytes() / 1048576.0, image.areas()));
        }
        if (base != null) {
            text.append("  incremental: unchanged pages are in ").append(base).append('\n');
        }
        for (Path old : coordinator.pruned(result.id())) {
            text.append("  deleted ").append(old.getFileName()).append(" (keep ").append(coordinator.keep())
                    .append(")\n");
        }
        return text.append(result.directory()).toString();
    }

    /**
     * @param asJson print JSON
     * @param computation only this computation
     * @return the computations with their processes and last checkpoints
     */
    @Descriptor("show the computations: id, command, processes, and the last checkpoint of each")
    public String status(@Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean asJson,
            @Descriptor("only this computation") @Parameter(names = "--computation", absentValue = "") String computation) {
        List<String> ids = computation.isEmpty() ? List.copyOf(coordinator.computations().running())
                : List.of(ComputationChoice.of(coordinator.computations(), computation, "status").orElseThrow());
        return asJson ? statusJson(ids) : StatusText.of(coordinator, ids);
    }

    private String statusJson(List<String> ids) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("coordinator", coordinator.name());
        out.put("checkpointDirectory", coordinator.checkpointDirectory().toString());
        List<Map<String, Object>> all = new ArrayList<>();
        List<Map<String, Object>> computations = new ArrayList<>();
        for (String id : ids) {
            List<Map<String, Object>> processes = new ArrayList<>();
            for (Agent agent : coordinator.computations().agents(id)) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("pid", agent.pid());
                p.put("hostPid", agent.hostPid());
                p.put("computation", id);
                p.put("restored", agent.restored());
                p.put("command", agent.info().command());
                ProcFacts facts = ProcFacts.of(agent.hostPid());
                p.put("threads", facts.threads());
                p.put("residentBytes", facts.residentBytes());
                processes.add(p);
            }
            all.addAll(processes);
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("id", id);
            c.put("command", coordinator.computations().command(id));
            c.put("processes", processes);
            List<Map<String, Object>> parts = new ArrayList<>();
            for (org.stasis.framework.span.Members.Part part : coordinator.members().parts(id)) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("host", part.host());
                p.put("part", part.part());
                p.put("pids", part.pids());
                p.put("state", part.state());
                parts.add(p);
            }
            if (!parts.isEmpty()) {
                c.put("parts", parts);
            }
            coordinator.lastCheckpoint(id).ifPresent(l -> c.put("lastCheckpoint", lastOf(l)));
            c.put("warnings", coordinator.statusWarnings(id));
            computations.add(c);
        }
        out.put("computations", computations);
        out.put("processes", all);
        out.put("intervalSeconds", coordinator.interval().toSeconds());
        coordinator.nextIntervalCheckpoint().ifPresent(t -> out.put("nextCheckpoint", t.toString()));
        out.put("keep", coordinator.keep());
        coordinator.memberLink().ifPresent(link -> {
            Map<String, Object> member = new LinkedHashMap<>();
            member.put("main", link.main());
            member.put("host", link.host());
            member.put("lost", link.lostWhy());
            out.put("memberOf", member);
        });
        coordinator.lastCheckpoint().ifPresent(c -> out.put("lastCheckpoint", lastOf(c)));
        return json.write(out);
    }

    private static Map<String, Object> lastOf(CheckpointResult c) {
        return Map.of("id", c.id(), "directory", c.directory().toString(), "seconds", c.duration().toMillis() / 1000.0);
    }

    /**
     * @param computation the computation to kill
     * @return what was killed
     */
    @Descriptor("kill every process of a computation (the only one, or --computation ID)")
    public String kill(@Descriptor("the computation (see status); needed when several run")
            @Parameter(names = "--computation", absentValue = "") String computation) {
        java.util.Optional<String> id = ComputationChoice.of(coordinator.computations(), computation, "kill",
                coordinator::heldPart);
        if (id.isEmpty() || coordinator.computations().agents(id.get()).isEmpty()) {
            return "no process to kill";
        }
        if (runtime != null) {
            KillMarks.mark(runtime, coordinator.name(), coordinator.computations().agents(id.get()));
        }
        // Parts on other hosts first, with this part stopped meanwhile: a program that saw the
        // other hosts' processes die would clean up what a restart needs (mpirun its session directory).
        java.util.Map<String, Integer> elsewhere = java.util.Map.of();
        if (coordinator.members().spans(id.get())) {
            ComputationKill.freeze(coordinator.computations().agents(id.get()));
            elsewhere = coordinator.members().kill(id.get());
        }
        int killed = ComputationKill.killAll(() -> coordinator.computations().agents(id.get()));
        StringBuilder said = new StringBuilder("killed " + killed + " process" + (killed == 1 ? "" : "es")
                + " of computation " + id.get());
        elsewhere.forEach((host, n) -> said.append(", ").append(n).append(" on ").append(host));
        return said.toString();
    }

    /**
     * @param computation the main's computation the new part joins, empty for its only one
     * @return the new part's computation id here
     */
    @Descriptor("reserve the id of a new part of a computation of the main coordinator (used by 'stasis launch"
            + " --coordinator')")
    public String partlaunch(@Descriptor("the main's computation (default: its only one)")
            @Parameter(names = "--computation", absentValue = "") String computation) {
        return coordinator.launchPart(computation);
    }

    /** @return a new computation id; {@code stasis launch} gives it to the program's agent */
    @Descriptor("reserve the id of a new computation (used by 'stasis launch')")
    public String launchid() {
        return coordinator.computations().reserve(coordinator.checkpointDirectory());
    }

    /**
     * @param directory the new checkpoint directory, or none to show it
     * @return the checkpoint directory
     */
    @Descriptor("show or set where checkpoints are written")
    public String ckptdir(@Descriptor("new directory") String... directory) {
        if (directory.length > 1) {
            throw new IllegalArgumentException("ckptdir takes at most one directory");
        }
        if (directory.length == 1) {
            coordinator.checkpointDirectory(WritableDirectory.check(Path.of(directory[0])));
        }
        return coordinator.checkpointDirectory().toString();
    }

    /**
     * @param seconds the new interval; 0 turns interval checkpoints off
     * @return the interval now in force
     */
    @Descriptor("show, or set to S seconds, how often to checkpoint while there are processes; 0 turns it off")
    public String interval(@Descriptor("seconds") String... value) {
        if (value.length > 1) {
            throw new IllegalArgumentException("interval takes at most one number of seconds; see: stasis interval --help");
        }
        if (value.length == 1) {
            long seconds = number("interval", value[0]);
            coordinator.interval(java.time.Duration.ofSeconds(seconds));
        }
        long seconds = coordinator.interval().toSeconds();
        return seconds == 0 ? "interval checkpoints off" : "checkpoint every " + seconds + " s";
    }

    private static int number(String command, String text) {
        try {
            int n = Integer.parseInt(text);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the message below says it
        }
        throw new IllegalArgumentException(command + " takes a whole number >= 0, not '" + text + "'; see: stasis "
                + command + " --help");
    }

    /**
     * @param count how many checkpoints to keep; 0 keeps all
     * @return the retention now in force
     */
    @Descriptor("show, or set to K, how many checkpoints to keep (older ones are deleted after each new one); 0 keeps all")
    public String keep(@Descriptor("count") String... value) {
        if (value.length > 1) {
            throw new IllegalArgumentException("keep takes at most one count; see: stasis keep --help");
        }
        if (value.length == 1) {
            coordinator.keep(number("keep", value[0]));
        }
        int count = coordinator.keep();
        return count == 0 ? "keeping all checkpoints" : "keeping the newest " + count + " checkpoints";
    }

    /**
     * @param asJson print JSON
     * @param directory the checkpoint directory to list (default: the coordinator's)
     * @param computation only this computation's checkpoints
     * @param lineageOf only the checkpoints of the lineage of this checkpoint id (empty: all)
     * @return the checkpoints with their computation, generation, time, processes, size, command, note and health
     */
    @Descriptor("list the checkpoints in a directory (each computation's in its own subdirectory): computation,"
            + " generation, time, processes, size, command, note, and whether each verifies")
    public String list(
            @Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true", absentValue = "false") boolean asJson,
            @Descriptor("checkpoint directory") @Parameter(names = "--ckpt-dir", absentValue = "") String directory,
            @Descriptor("only this computation's") @Parameter(names = "--computation", absentValue = "") String computation,
            @Descriptor("only the checkpoints of the same computation (lineage across restarts) as this checkpoint id")
            @Parameter(names = "--lineage-of", absentValue = "") String lineageOf) {
        Path root = directory.isEmpty() ? coordinator.checkpointDirectory() : Path.of(directory);
        try {
            return CheckpointListing.list(root, computation, lineageOf, coordinator.lineages()::lineageOf, asJson);
        } catch (InspectionFailedException e) {
            throw new CommandFailedException(e.getMessage(), e, e.output());
        }
    }

    /**
     * Checks a checkpoint completely: manifest, and every stored page of every image
     * against its checksum.
     *
     * @param asJson print JSON
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return what was checked
     */
    @Descriptor("check a checkpoint completely: its manifest and every page of every memory image, by the rules of a restart")
    public String verify(@Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean asJson,
            @Descriptor("check it even if it is foreign (not yours, or writable by others)")
            @Parameter(names = "--trust", presentValue = "true", absentValue = "false") boolean trusted,
            @Descriptor("checkpoint directory") String checkpoint) {
        try {
            return CheckpointVerifier.verify(restorer, Path.of(checkpoint), trusted, asJson);
        } catch (InspectionFailedException e) {
            throw new CommandFailedException(e.getMessage(), e, e.output());
        }
    }

    // The checkpoint an incremental one refers to (its manifest's base), null if none.
    private static String baseOf(Path checkpoint) {
        try {
            return new org.stasis.framework.store.CheckpointStore(checkpoint.getParent()).read(checkpoint).base();
        } catch (org.stasis.framework.store.CheckpointInvalidException e) {
            return null;
        }
    }

    /**
     * Writes a self-contained copy of an incremental checkpoint beside it.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return the copy's directory
     */
    @Descriptor("write a self-contained copy of a checkpoint (CKPT.compact beside it): its parents' pages copied in,"
            + " so that it restarts without them")
    public String compact(@Descriptor("checkpoint directory") String checkpoint) {
        try {
            return org.stasis.framework.store.Compaction.compact(restorer, Path.of(checkpoint)).toString();
        } catch (org.stasis.framework.store.CheckpointInvalidException | java.io.IOException e) {
            throw new CommandFailedException("cannot compact " + checkpoint + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param asJson print JSON
     * @param trusted describe it even if it is foreign
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return the checkpoint's manifest as tables: processes, sizes, plugins, records, parent
     */
    @Descriptor("describe a checkpoint: processes, sizes, plugins and their records, parent (manifest and image headers)")
    public String info(@Descriptor("print JSON") @Parameter(names = "--json", presentValue = "true",
            absentValue = "false") boolean asJson,
            @Descriptor("describe it even if it is foreign (not yours, or writable by others)")
            @Parameter(names = "--trust", presentValue = "true", absentValue = "false") boolean trusted,
            @Descriptor("checkpoint directory") String checkpoint) {
        try {
            return CheckpointInfo.info(Path.of(checkpoint), trusted, asJson);
        } catch (InspectionFailedException e) {
            throw new CommandFailedException(e.getMessage(), e, e.output());
        }
    }

    /**
     * Used by {@code stasis restart}: validates a checkpoint, runs the plugins'
     * restart events and writes the plan that {@code stasis-restore} carries out.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return the plan file
     */
    @Descriptor("restart a checkpoint that spans hosts on the hosts given; prints the plan of the main's part when"
            + " it is placed here, else 'none' (used by 'stasis restart --hosts')")
    public String spanrestart(CommandSession session,
            @Descriptor("restart it even if it is foreign") @Parameter(names = "--trust", presentValue = "true",
                    absentValue = "false") boolean trusted,
            @Descriptor("pid of the process that will run stasis-restore for the main's part")
            @Parameter(names = "--restorer", absentValue = "0") long restorerPid,
            @Descriptor("the hosts, h1,h2,...") @Parameter(names = "--hosts", absentValue = "") String hosts,
            @Descriptor("PART=HOST,...: where each part goes (default: round-robin over the hosts)")
            @Parameter(names = "--map", absentValue = "") String map,
            @Descriptor("the parts restarted by coordinators skip the page check too")
            @Parameter(names = "--no-verify", presentValue = "false", absentValue = "true") boolean verify,
            @Descriptor("the parts restarted by coordinators leave paging in to page faults too")
            @Parameter(names = "--no-prefetch", presentValue = "false", absentValue = "true") boolean prefetch,
            @Descriptor("checkpoint directory") String checkpoint) {
        java.util.Map<String, String> placed = new java.util.LinkedHashMap<>();
        for (String item : map.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            if (eq <= 0 || eq == item.length() - 1) {
                throw new CommandFailedException("bad --map item '" + item + "'; give PART=HOST,...", null);
            }
            placed.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
        }
        List<String> on = java.util.Arrays.stream(hosts.split(",")).map(String::strip).filter(h -> !h.isEmpty())
                .toList();
        try {
            Path plan = coordinator.restartSpan(Path.of(checkpoint), on, placed,
                    new RestartChoices(trusted, verify, prefetch), restorerPid, ClientGone.of(session));
            return plan == null ? "none" : plan.toString();
        } catch (Exception e) {
            throw new CommandFailedException(e.getMessage(), e);
        }
    }

    @Descriptor("validate a checkpoint and prepare its restart plan (used by 'stasis restart')")
    public String restartplan(CommandSession session,
            @Descriptor("restart it even if it is foreign (not yours, or writable by others): a checkpoint is a program")
            @Parameter(names = "--trust", presentValue = "true", absentValue = "false") boolean trusted,
            @Descriptor("pid of the process that will run stasis-restore: if it ends before it connects, the restart"
                    + " fails at once") @Parameter(names = "--restorer", absentValue = "0") long restorerPid,
            @Descriptor("path redirects, OLD=NEW items separated by TABs: the program's files under OLD are served from NEW")
            @Parameter(names = "--redirect", absentValue = "") String redirects,
            @Descriptor("checkpoint directory") String checkpoint) {
        java.util.Map<Path, Path> redirect;
        try {
            redirect = RedirectOption.parse(redirects);
        } catch (IllegalArgumentException e) {
            throw new CommandFailedException(e.getMessage(), e);
        }
        try {
            return coordinator.prepareRestart(Path.of(checkpoint), trusted, restorerPid, ClientGone.of(session),
                    redirect).toString();
        } catch (CheckpointInvalidException e) {
            throw new CommandFailedException(e.getMessage(), e);
        } catch (Exception e) {
            throw new CommandFailedException(e.getMessage(), e);
        }
    }
}
