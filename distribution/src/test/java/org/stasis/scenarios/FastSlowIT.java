package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Fast/slow checking (python/stasis/fastslow, issue #14) end to end: real Cython modules
 * of samples/fastslow compiled at test time (cython3, python3-dev, gcc; once, into
 * target/fastslow-samples), checked by {@code stasis fastslow run}, one scenario per run
 * of the driver python/tests/fastslow/fastslow_test.py under the system's
 * /usr/bin/python3 (Cython and Dask distributed are Debian packages of it).
 */
@Timeout(300)
class FastSlowIT {
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path DIST = Path.of(System.getProperty("stasis.dist", "../dist")).toAbsolutePath().normalize();
    private static final Path BUILD = Path.of("target", "fastslow-samples").toAbsolutePath();

    @ParameterizedTest
    // K=1: stop_at_first (intervals 1-7 one at a time), K=2: fixed, float_*, crash...,
    // K=4: overflow_k4 (with every(4)); overflow_k1 and overflow_k2 are in the driver too.
    @ValueSource(strings = {"overflow_k4", "stop_at_first", "fixed", "float_tolerance", "float_exact",
        "crash", "hang", "interrupted", "unpicklable", "nomark", "broken", "dask", "dask_unshared"})
    void scenario(String name) throws Exception {
        Files.createDirectories(BUILD);
        String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
        ProcessBuilder builder = new ProcessBuilder(python,
                REPO.resolve("python/tests/fastslow/fastslow_test.py").toString(), "--build", BUILD.toString(), name)
                .redirectErrorStream(true);
        builder.environment().put("STASIS_HOME", DIST.toString());
        Process driver = builder.start();
        driver.getOutputStream().close();
        String output = new String(driver.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(driver.waitFor(60, TimeUnit.SECONDS), "the fast/slow test driver did not end:\n" + output);
        assertEquals(0, driver.exitValue(), output);
        assertTrue(output.contains("OK " + name), output);
    }
}
