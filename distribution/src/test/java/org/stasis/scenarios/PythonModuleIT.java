package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code stasis} Python module (python/stasis) used by real Python
 * programs under bin/stasis: checkpoint() and its id, is_resume()/is_restart(),
 * hooks for checkpoints the program did not request, sessions(), restore(); and the
 * module outside Stasis (plain python3, and installed with pip), where every call
 * is a no-op.
 */
@Timeout(300)
class PythonModuleIT {
    private static final Duration STEP = Duration.ofSeconds(60);
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path TESTS = REPO.resolve("python/tests");

    @TempDir
    Path temp;

    private static String lastWord(String line) {
        String[] words = line.trim().split(" ");
        return words[words.length - 1];
    }

    /** program checkpoint → CLI checkpoint (hooks) → kill → restart → sessions() → restore() */
    @Test
    void theModuleCheckpointsHooksListsAndRestores() throws Exception {
        Path output = temp.resolve("output.txt");
        Path work = Files.createDirectory(temp.resolve("work"));
        try (Computation computation = new Computation(temp, "pymod")) {
            Process running = computation.launch(output, "python3", TESTS.resolve("module_scenario.py").toString(),
                    work.toString(), "5");
            String first = lastWord(Computation.awaitLine(output,
                    l -> l.startsWith("OK-STEP program-checkpoint "), STEP));
            assertTrue(first.startsWith("pymod-"), "checkpoint id " + first);
            Path checkpoints = temp.resolve("checkpoints").resolve("c1");      // the first launch's computation
            assertTrue(Files.isRegularFile(checkpoints.resolve(first).resolve("manifest.json")),
                    "no checkpoint directory for the id the program got: " + first);

            // a checkpoint the program did not ask for runs its hooks and tells it the id
            Computation.awaitLine(output, l -> l.equals("READY cli"), STEP);
            Path cli = computation.checkpoint();
            String second = lastWord(Computation.awaitLine(output, l -> l.startsWith("OK-STEP cli-checkpoint "), STEP));
            assertEquals(cli.getFileName().toString(), second, "the id the hooks saw");

            Computation.awaitLine(output, l -> l.equals("READY kill"), STEP);
            computation.kill(running);
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(checkpoints.resolve(first), output);
            String again = lastWord(Computation.awaitLine(output, before,
                    l -> l.startsWith("OK-STEP restarted "), STEP).replaceAll(" restarts \\d+$", ""));
            assertEquals(first, again, "the restored copy's checkpoint() returned another id");
            String listed = Computation.awaitLine(output, before, l -> l.startsWith("OK-STEP sessions "), STEP);
            assertTrue(listed.contains(" " + first) && listed.contains(" " + second), listed);

            // restore(first) replaced the process: same output, and its exit status comes through
            Computation.awaitLine(output, before, l -> l.startsWith("OK module_scenario " + first), STEP);
            assertTrue(restarted.waitFor(60, TimeUnit.SECONDS), "the restored program did not end");
            assertEquals(5, restarted.exitValue(), Files.readString(output));
            assertEquals(2, Files.readAllLines(output).stream().skip(before)
                    .filter(l -> l.equals("hook restart " + first)).count(),
                    "one restart hook per restart:\n" + Files.readString(output));
            assertEquals(first, Files.readString(work.resolve("restored-by-api")));
        }
    }

    /** restore() in a launched program: launch's output and exit status become the restored copy's. */
    @Test
    void restoreReplacesTheLaunchedProgram() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "pyrestore")) {
            Process running = computation.launch(output, "python3", TESTS.resolve("restore_exit.py").toString());
            assertTrue(running.waitFor(120, TimeUnit.SECONDS), "did not finish:\n" + Files.readString(output));
            List<String> lines = Files.readAllLines(output);
            assertEquals(7, running.exitValue(), String.join("\n", lines));
            String id = lastWord(lines.stream().filter(l -> l.startsWith("original took ")).findFirst().orElseThrow());
            assertTrue(lines.contains("OK restore_exit " + id), String.join("\n", lines));
        }
    }

    /** Without hooks or checkpoint() calls, is_resume()/is_restart() follow CLI checkpoints too. */
    @Test
    void aCliCheckpointAndRestartAreSeenWithoutHooks() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "pycli")) {
            Process running = computation.launch(output, "python3", TESTS.resolve("cli_restart.py").toString());
            Computation.awaitLine(output, l -> l.equals("tick"), STEP);
            Path checkpoint = computation.checkpoint();
            String id = checkpoint.getFileName().toString();
            Computation.awaitLine(output, l -> l.equals("resumed after " + id), STEP);
            computation.kill(running);
            int before = Computation.lineCount(output);
            Process restarted = computation.restart(checkpoint, output);
            Computation.assertFinished(restarted, output, "OK cli_restart " + id);
            assertTrue(Files.readAllLines(output).stream().skip(before).anyMatch(l -> l.equals("OK cli_restart " + id)),
                    Files.readString(output));
        }
    }

    /** Outside Stasis every call is a no-op that says so once. */
    @Test
    void outsideStasisEveryCallIsANoOp() throws Exception {
        Path output = temp.resolve("outside.txt");
        int status = runPython(output, Map.of("PYTHONPATH", REPO.resolve("python").toString()),
                TESTS.resolve("outside.py").toString());
        String text = Files.readString(output);
        assertEquals(0, status, text);
        assertTrue(text.contains("OK outside"), text);
        assertEquals(1, text.lines().filter(
                l -> l.equals("stasis: not running under Stasis; checkpoint() does nothing")).count(), text);
    }

    /** pip installs the package offline (own build backend, standard library only). */
    @Test
    void pipInstallsTheModuleOffline() throws Exception {
        Path log = temp.resolve("pip.txt");
        Assumptions.assumeTrue(runPython(log, Map.of(), "-m", "pip", "--version") == 0, "no pip here");
        Path target = temp.resolve("site");
        int status = runPython(log, Map.of("PIP_NO_INDEX", "1", "PIP_DISABLE_PIP_VERSION_CHECK", "1"), "-m", "pip",
                "install", "-q", "--no-index", "--target", target.toString(), REPO.resolve("python").toString());
        assertEquals(0, status, Files.readString(log));
        assertTrue(Files.isRegularFile(target.resolve("stasis/__init__.py")), Files.readString(log));
        Path output = temp.resolve("outside.txt");
        status = runPython(output, Map.of("PYTHONPATH", target.toString()), TESTS.resolve("outside.py").toString());
        assertEquals(0, status, Files.readString(output));
    }

    // python3 ARGS without any Stasis variables; output (both streams) appended to a file
    private int runPython(Path output, Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(temp.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("STASIS_") || k.equals("LD_PRELOAD")
                || k.equals("PYTHONPATH"));
        builder.environment().putAll(env);
        builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = builder.start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
            return -1;
        }
        return process.exitValue();
    }
}
