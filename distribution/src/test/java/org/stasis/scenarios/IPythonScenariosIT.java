package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPython under Stasis, against the real programs of the system Python (Debian's
 * ipython3, python3-ipykernel, python3-jupyter-client, python3-ipyparallel,
 * python3-pexpect). Each scenario is a driver in python/tests/ipython that runs its own
 * coordinator through the real command line and prints {@code OK <name>} when every
 * check passed (see the drivers' docstrings for the steps).
 */
@Timeout(400)
class IPythonScenariosIT {
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path DIST = Path.of(System.getProperty("stasis.dist", REPO.resolve("dist").toString()))
            .toAbsolutePath().normalize();
    private static final Path DRIVERS = REPO.resolve("python/tests/ipython");
    /** The system Python: IPython and friends are Debian's modules of it (python3 on PATH may be a pyenv shim). */
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path temp;

    /** ipython3 in a pty: restart, variables, %history, up-arrow, %restore back and forth, bad ids, outside Stasis. */
    @Test
    void ipythonInATerminal() throws Exception {
        run("terminal_scenario.py", "ipython_terminal");
    }

    /** A Jupyter kernel driven by BlockingKernelClient: x + 1 = 42 after restart, mid-cell checkpoint, %restore. */
    @Test
    void aJupyterKernel() throws Exception {
        run("kernel_scenario.py", "ipython_kernel");
    }

    /** ipcluster with 4 engines as one computation: data back after restart, 3 checkpoints during a map. */
    @Test
    void anIpyparallelCluster() throws Exception {
        run("cluster_scenario.py", "ipython_cluster", "3");
    }

    /** An unreadable profile file refuses the checkpoint (one line); a failed restart leaves no private copy. */
    @Test
    void theProfilesFailureCases() throws Exception {
        run("profile_failures_scenario.py", "ipython_profile_failures");
    }

    private void run(String driver, String name, String... extra) throws Exception {
        assertTrue(new File(PYTHON).canExecute(), PYTHON + " is missing");
        Path output = temp.resolve(name + ".txt");
        Path work = Files.createDirectory(temp.resolve("work"));
        List<String> command = new ArrayList<>(List.of(PYTHON, DRIVERS.resolve(driver).toString(), DIST.toString()));
        command.addAll(List.of(extra));
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("STASIS_") || k.equals("LD_PRELOAD")
                || k.equals("PYTHONSTARTUP"));
        builder.environment().put("IPY_SCENARIO_TEMP", work.toString());
        // its coordinators' framework caches go with the test, not into the user's ~/.cache
        builder.environment().put("STASIS_CACHE_DIR", temp.resolve("framework-caches").toString());
        builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process process = builder.start();
        try {
            assertTrue(process.waitFor(360, TimeUnit.SECONDS), "the driver did not finish:\n" + Files.readString(output));
            String text = Files.readString(output);
            assertEquals(0, process.exitValue(), text);
            assertTrue(text.lines().anyMatch(l -> l.equals("OK " + name)), text);
        } finally {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
