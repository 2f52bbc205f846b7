package org.stasis.framework.commands;

import org.stasis.framework.control.CommandFailedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.agent.Agent;
import org.stasis.framework.core.Coordinator;

/**
 * {@code stasis:launch} and {@code stasis:restart} for the shell and for scripts: the
 * same operations as the command line's, but the program runs in the background of
 * the coordinator with its output appended to a file, since a shell session has no
 * terminal to give it.
 */
@Component(service = ProgramCommands.class)
@GogoCommand(scope = "stasis", function = { "launch", "restart" })
public class ProgramCommands {
    private final Coordinator coordinator;
    private final Path home;

    /**
     * @param coordinator the coordinator the programs join
     * @param context the framework bundle's context (for the distribution's location)
     */
    @Activate
    public ProgramCommands(@Reference Coordinator coordinator, BundleContext context) {
        this.coordinator = coordinator;
        String property = context.getProperty("stasis.home");
        this.home = property == null ? Path.of(".") : Path.of(property);
    }

    /**
     * @param out where the program's output goes
     * @param command the program and its arguments
     * @return the started process
     * @throws Exception if it could not start
     */
    @Descriptor("run a program under checkpoint control in the background (the command line's launch runs it in the foreground)")
    public String launch(
            @Descriptor("file that receives the program's output (default: <ckpt-dir>/<name>.out)")
            @Parameter(names = "--out", absentValue = "") String out,
            @Descriptor("program and arguments") String... command) throws Exception {
        if (command.length == 0) {
            throw new IllegalArgumentException("launch needs a program: stasis:launch [--out FILE] PROGRAM ARGS...");
        }
        List<String> argv = new ArrayList<>(List.of(home.resolve("bin/stasis-launch").toString(),
                home.resolve("lib/libstasis-agent.so").toString(), coordinator.agentSocket().toString(), "--"));
        argv.addAll(List.of(command));
        Path output = output(out);
        List<Agent> before = coordinator.agents();
        String id = coordinator.computations().reserve(coordinator.checkpointDirectory());
        Process process = start(argv, output, Map.of("STASIS_COMPUTATION", id));
        Agent agent = awaitNewAgent(before, process, output);
        return "launched " + String.join(" ", command) + " as pid " + agent.pid() + " (host pid " + agent.hostPid()
                + ") in computation " + id + "; output in " + output;
    }

    /**
     * @param out where the program's output goes
     * @param redirects {@code OLD=NEW} items separated by TABs (as {@code stasis restart --redirect})
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return the restarted process
     * @throws Exception if it could not be restarted
     */
    @Descriptor("restart a checkpoint in the background (the command line's restart runs it in the foreground)")
    public String restart(
            @Descriptor("file that receives the program's output (default: <ckpt-dir>/<name>.out)")
            @Parameter(names = "--out", absentValue = "") String out,
            @Descriptor("path redirects, OLD=NEW items separated by TABs: the program's files under OLD are served from NEW")
            @Parameter(names = "--redirect", absentValue = "") String redirects,
            @Descriptor("checkpoint directory") String checkpoint) throws Exception {
        Path output = output(out);
        List<Agent> before = coordinator.agents();
        Path plan;
        try {
            plan = coordinator.prepareRestart(Path.of(checkpoint).toAbsolutePath(), false, 0, () -> false,
                    RedirectOption.parse(redirects));
        } catch (Exception e) {
            throw new CommandFailedException(e.getMessage(), e);
        }
        Process process = start(List.of(home.resolve("bin/stasis-restore").toString(), plan.toString()), output,
                Map.of());
        Agent agent = awaitNewAgent(before, process, output);
        return "restarted " + checkpoint + " as pid " + agent.pid() + " (host pid " + agent.hostPid() + "); output in "
                + output;
    }

    private Path output(String out) throws IOException {
        Path output = out.isEmpty() ? coordinator.checkpointDirectory().resolve(coordinator.name() + ".out")
                : Path.of(out).toAbsolutePath();
        Files.createDirectories(output.getParent());
        return output;
    }

    private static Process start(List<String> argv, Path output, Map<String, String> environment) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(argv);
        builder.environment().putAll(environment);
        return builder.redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    }

    // The restorer's (or launcher's) own message, if it left one: what the user needs first.
    private static String lastStasisLine(Path output) {
        try (var lines = Files.lines(output)) {
            return lines.filter(l -> l.startsWith("stasis")).reduce((a, b) -> b).map(l -> ": " + l).orElse("");
        } catch (IOException | java.io.UncheckedIOException e) {
            return "";
        }
    }

    private Agent awaitNewAgent(List<Agent> before, Process process, Path output) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (Agent agent : coordinator.agents()) {
                if (!before.contains(agent)) {
                    return agent;
                }
            }
            if (!process.isAlive()) {
                throw new CommandFailedException("the program ended at once (exit " + process.exitValue()
                        + ")" + lastStasisLine(output) + "; see " + output, null);
            }
            Thread.sleep(20);
        }
        throw new CommandFailedException("the program did not join the coordinator within 30 s; see " + output, null);
    }
}
