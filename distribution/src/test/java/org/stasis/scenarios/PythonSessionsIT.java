package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * Sessions of the {@code stasis} Python module are the computation's own (its lineage
 * across restarts), and {@code restore()} replaces the computation instead of nesting
 * it: any number of restores in a row, at a constant pid namespace depth, on the same
 * output, with the exit status reaching {@code stasis launch}.
 */
@Timeout(600)
class PythonSessionsIT {
    private static final Duration STEP = Duration.ofSeconds(60);
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path TESTS = REPO.resolve("python/tests");
    private static final int ROUNDS = 40;

    @TempDir
    Path temp;

    /** 40 restores in a row from inside a Python program (python3 on PATH, maybe a pyenv shim). */
    @Test
    void fortyRestoresInARowDoNotNest() throws Exception {
        Path output = temp.resolve("output.txt");
        Path work = Files.createDirectory(temp.resolve("work"));
        try (Computation computation = new Computation(temp, "pyloop")) {
            assertEquals(0, computation.run("keep", "3").status());
            Process launched = computation.launch(output, "python3", TESTS.resolve("restore_loop.py").toString(),
                    work.toString(), Integer.toString(ROUNDS));
            int levels = pidNamespaceLevels(computation, output, work, "start");
            assertEquals(levels, pidNamespaceLevels(computation, output, work, "1"),
                    "pid namespace levels (NSpid seen from the host) after one restore");
            assertEquals(levels, pidNamespaceLevels(computation, output, work, "end"),
                    "pid namespace levels (NSpid seen from the host) after " + ROUNDS + " restores");
            assertTrue(launched.waitFor(120, TimeUnit.SECONDS), "did not finish:\n" + Files.readString(output));
            List<String> lines = Files.readAllLines(output);
            assertEquals(0, launched.exitValue(), String.join("\n", lines));
            assertTrue(lines.contains("OK restore_loop " + ROUNDS), String.join("\n", lines));
            assertEquals(ROUNDS, lines.stream().filter(l -> l.matches("restored \\d+")).count(),
                    String.join("\n", lines));
        }
    }

    // While the program waits at "PROBE tag": the entries of NSpid of its process, read from the host.
    // The process is the one live process of the computation (launched at "start", restored after),
    // once the coordinator has let go of the processes the restore replaced.
    private static int pidNamespaceLevels(Computation computation, Path output, Path work, String tag)
            throws Exception {
        Computation.awaitLine(output, l -> l.equals("PROBE " + tag), Duration.ofSeconds(400));
        boolean restored = !tag.equals("start");
        Pattern entry = Pattern.compile(
                "\"hostPid\" : (\\d+),\\s*(?:\"computation\" : \"[^\"]*\",\\s*)?\"restored\" : (true|false)");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        StasisCli.Result status;
        List<Path> live;
        do {
            status = computation.status();
            Matcher m = entry.matcher(status.out());
            live = new java.util.ArrayList<>();   // distinct: status lists a process per computation too
            while (m.find()) {
                Path proc = Path.of("/proc", m.group(1), "status");
                if (Boolean.parseBoolean(m.group(2)) == restored && Files.exists(proc) && !live.contains(proc)) {
                    live.add(proc);
                }
            }
        } while (live.size() != 1 && System.nanoTime() < deadline && sleep());
        assertEquals(1, live.size(), "one live " + (restored ? "restored" : "launched") + " process: " + status);
        String nspid = Files.readAllLines(live.get(0)).stream().filter(l -> l.startsWith("NSpid:")).findFirst()
                .orElseThrow();
        Files.writeString(work.resolve("ack-" + tag), "go");
        return nspid.trim().split("\\s+").length - 1;
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(100);
        return true;
    }

    /**
     * A second program under the same coordinator does not see the first one's
     * checkpoints; a restarted program sees its own across the restart (with
     * /usr/bin/python3); {@code stasis list} shows the command.
     */
    @Test
    void sessionsAreTheComputationsOwnAcrossRestarts() throws Exception {
        Path output = temp.resolve("output.txt");
        Path work = Files.createDirectory(temp.resolve("work"));
        Path script = TESTS.resolve("lineage_scenario.py");
        try (Computation computation = new Computation(temp, "pylineage")) {
            Process a = computation.launch(output, "/usr/bin/python3", script.toString(), work.toString(), "A");
            assertTrue(a.waitFor(120, TimeUnit.SECONDS), "A did not finish:\n" + Files.readString(output));
            assertEquals(0, a.exitValue(), Files.readString(output));

            Process b = computation.launch(output, "/usr/bin/python3", script.toString(), work.toString(), "B");
            String ready = Computation.awaitLine(output, l -> l.startsWith("READY kill "), STEP);
            String id = ready.substring("READY kill ".length());
            Path first;       // in its computation's own subdirectory of the checkpoint directory
            try (var found = Files.find(computation.checkpoints(), 2,
                    (p, attributes) -> attributes.isDirectory() && p.getFileName().toString().equals(id))) {
                first = found.findFirst().orElseThrow(() -> new AssertionError("no checkpoint directory " + id));
            }
            computation.kill(b);
            Process restarted = computation.restart(first, output);
            Computation.assertFinished(restarted, output, "OK lineage B ");

            StasisCli.Result list = computation.run("list");
            assertEquals(0, list.status(), list.toString());
            assertTrue(list.out().contains("COMMAND") && list.out().contains("lineage_scenario.py"), list.out());
            assertTrue(list.out().contains("NOTE") && list.out().contains("after the restart"), list.out());
            StasisCli.Result json = computation.run("list", "--json");
            assertTrue(json.out().contains("\"command\"") && json.out().contains("\"lineage\""), json.out());
        }
    }
}
