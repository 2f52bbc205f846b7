package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.stasis.cli.StasisCli;

/**
 * A coordinator of its own and the programs a scenario runs under it, all through
 * the real command line. Closing kills what is left (by pid) and stops the
 * coordinator.
 */
final class Computation implements AutoCloseable {
    static final Path SCENARIOS = Path.of(System.getProperty("stasis.repo", ".."), "native", "target", "scenarios")
            .toAbsolutePath().normalize();

    private final StasisCli cli;
    private final String name;
    private final Path checkpoints;
    private final List<Process> started = new ArrayList<>();
    private final long coordinatorPid;

    Computation(Path temp, String name) throws IOException {
        this(temp, name, Map.of());
    }

    /**
     * A coordinator whose configuration file (org.stasis.coordinator.cfg in a plugins folder of
     * its own) sets {@code settings}; returns once it has applied them.
     */
    Computation(Path temp, String name, Map<String, String> settings) throws IOException {
        Path runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        this.cli = new StasisCli(runtime);
        this.name = name;
        this.checkpoints = temp.resolve("checkpoints");
        List<String> args = new ArrayList<>(List.of("coordinator", "--daemon", "--name", name, "--ckpt-dir",
                checkpoints.toString()));
        Path plugins = settings.isEmpty() ? null : Files.createDirectory(temp.resolve("plugins"));
        if (plugins != null) {
            args.addAll(List.of("--plugins", plugins.toString()));
        }
        StasisCli.Result coordinator = cli.run(args.toArray(String[]::new));
        assertEquals(0, coordinator.status(), coordinator.toString());
        this.coordinatorPid = Long.parseLong(coordinator.out().replaceAll("(?s).*\\(pid (\\d+),.*", "$1"));
        if (plugins != null) {
            try {
                configure(plugins, settings);
            } catch (IOException | AssertionError e) {
                cli.run("shutdown", "--name", name);
                throw e;
            }
        }
    }

    // Written once the coordinator runs, so that it announces each setting as it applies it.
    private void configure(Path plugins, Map<String, String> settings) throws IOException {
        StringBuilder cfg = new StringBuilder();
        settings.forEach((key, value) -> cfg.append(key).append('=').append(value).append('\n'));
        Files.writeString(plugins.resolve("org.stasis.coordinator.cfg"), cfg);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (String key : settings.keySet()) {
            String applied = "configuration: " + key + " = " + settings.get(key);
            while (!run("events", "-n", "200").out().contains(applied)) {
                if (System.nanoTime() > deadline) {
                    fail("the coordinator did not apply " + key + "=" + settings.get(key) + ":\n"
                            + run("events", "-n", "50").out());
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for the coordinator's configuration", e);
                }
            }
        }
    }

    /** @return the coordinator JVM's pid */
    long coordinatorPid() {
        return coordinatorPid;
    }

    /** @return where this computation's checkpoints go */
    Path checkpoints() {
        return checkpoints;
    }

    /** Runs a command of the command line against this coordinator. */
    StasisCli.Result run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--name");
        all.add(name);
        return cli.run(all.toArray(String[]::new));
    }

    /** Runs a program under checkpoint control, its output appended to {@code output}. */
    Process launch(Path output, String... command) throws IOException {
        return launchWith(output, List.of(), command);
    }

    /** Like {@link #launch}, with options of {@code stasis launch} such as {@code --save-files auto}. */
    Process launchWith(Path output, List<String> options, String... command) throws IOException {
        return launchWith(output, options, Map.of(), command);
    }

    /** Like {@link #launchWith(Path, List, String...)}, with variables added to the program's environment. */
    Process launchWith(Path output, List<String> options, Map<String, String> environment, String... command)
            throws IOException {
        List<String> args = new ArrayList<>(List.of("launch", "--name", name));
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(command));
        Process process = cli.start(output, environment, args.toArray(String[]::new));
        started.add(process);
        return process;
    }

    /** Restarts a checkpoint in the foreground of a new process. */
    Process restart(Path checkpoint, Path output) throws IOException {
        Process process = cli.start(output, "restart", "--name", name, checkpoint.toString());
        started.add(process);
        return process;
    }

    /** Starts any command of the command line against this coordinator, its output appended to {@code output}. */
    Process startCli(Path output, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of(args));
        all.add(1, name);
        all.add(1, "--name");
        Process process = cli.start(output, all.toArray(String[]::new));
        started.add(process);
        return process;
    }

    /** @return the published checkpoint's directory (the command's last line) */
    Path checkpoint() {
        StasisCli.Result result = cli.run("checkpoint", "--name", name);
        assertEquals(0, result.status(), result.toString());
        List<String> lines = result.out().strip().lines().toList();
        Path directory = Path.of(lines.get(lines.size() - 1));
        assertTrue(Files.isRegularFile(directory.resolve("manifest.json")), result.toString());
        return directory;
    }

    /** Kills the computation and waits until the program that ran it has ended. */
    void kill(Process foreground) throws InterruptedException {
        StasisCli.Result result = cli.run("kill", "--name", name);
        assertEquals(0, result.status(), result.toString());
        assertTrue(foreground.waitFor(30, TimeUnit.SECONDS), "the killed computation did not end");
        assertTrue(foreground.exitValue() != 0, "a killed program exited 0");
    }

    /** Runs a Gogo command line in the coordinator. */
    StasisCli.Result exec(String line) {
        return cli.run("exec", "--name", name, line);
    }

    StasisCli.Result status() {
        return cli.run("status", "--name", name, "--json");
    }

    /**
     * @return how many processes the coordinator lists now (each once: status --json
     *         lists them per computation and all together)
     */
    int processCount() {
        Matcher m = Pattern.compile("\"hostPid\" : (\\d+)").matcher(status().out());
        java.util.Set<String> pids = new java.util.HashSet<>();
        while (m.find()) {
            pids.add(m.group(1));
        }
        return pids.size();
    }

    /** Waits until the coordinator lists a restarted process. */
    void awaitRestored() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!status().out().contains("\"restored\" : true")) {
            if (System.nanoTime() > deadline) {
                fail("no restarted process joined the coordinator: " + status());
            }
            Thread.sleep(100);
        }
    }

    /** @return how many lines {@code file} has now */
    static int lineCount(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    }

    /** Waits until {@code file} has a line that matches. */
    static String awaitLine(Path file, Predicate<String> wanted, Duration limit) throws Exception {
        return awaitLine(file, 0, wanted, limit);
    }

    /** Waits until {@code file} has a line after the first {@code skip} lines that matches. */
    static String awaitLine(Path file, int skip, Predicate<String> wanted, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file).stream().skip(skip).toList()) {
                    if (line.startsWith("FAIL")) {
                        fail("the program reported " + line + "\n" + Files.readString(file));
                    }
                    if (wanted.test(line)) {
                        return line;
                    }
                }
            }
            Thread.sleep(50);
        }
        fail("no expected line in " + file + " within " + limit.toSeconds() + " s:\n"
                + (Files.exists(file) ? Files.readString(file) : "(no file)"));
        return null;
    }

    /**
     * Waits for a numbered progress line (group 1 of {@code progress}) after the first
     * {@code skip} lines of {@code file}, numbered at least {@code atLeast}.
     *
     * @return the number on that line
     */
    static int awaitProgress(Path file, int skip, Pattern progress, int atLeast) throws Exception {
        String line = awaitLine(file, skip, l -> {
            Matcher m = progress.matcher(l);
            return m.matches() && Integer.parseInt(m.group(1)) >= atLeast;
        }, Duration.ofSeconds(60));
        Matcher m = progress.matcher(line);
        m.matches();
        return Integer.parseInt(m.group(1));
    }

    /** The program ran to its end and verified its own state. */
    static void assertFinished(Process process, Path output, String okPrefix) throws Exception {
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the program did not finish:\n" + Files.readString(output));
        assertEquals(0, process.exitValue(), "exit status; output:\n" + Files.readString(output));
        awaitLine(output, l -> l.startsWith(okPrefix), Duration.ofSeconds(5));
    }

    @Override
    public void close() throws Exception {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        cli.run("kill", "--name", name);
        cli.run("shutdown", "--name", name);
        ProcessHandle.of(coordinatorPid).ifPresent(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (cli.run("ping", "-q", "--name", name).status() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }
}
