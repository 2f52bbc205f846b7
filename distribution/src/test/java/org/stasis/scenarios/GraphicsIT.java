package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Graphics (issue #12): a VNC X server (Xvnc) inside the computation with real X
 * programs on it (matplotlib TkAgg, Tk), checkpointed and restarted through the real
 * command line; the viewer outside (noVNC through websockify, seen by headless
 * Chromium). Driven by python/tests/graphics/graphics_test.py, one scenario per run,
 * under the system's Python (its matplotlib, Tk and PIL).
 */
@Timeout(600)
class GraphicsIT {
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path DIST = Path.of(System.getProperty("stasis.dist", "../dist")).toAbsolutePath().normalize();

    @ParameterizedTest
    @ValueSource(strings = {"animation", "web", "click", "api", "no_xvnc", "display", "shm", "display_dies", "native"})
    void scenario(String name) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("/usr/bin/python3",
                REPO.resolve("python/tests/graphics/graphics_test.py").toString(), name)
                .redirectErrorStream(true);
        builder.environment().put("STASIS_HOME", DIST.toString());
        Process driver = builder.start();
        driver.getOutputStream().close();
        String output = new String(driver.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(driver.waitFor(60, TimeUnit.SECONDS), "the graphics test driver did not end:\n" + output);
        assertEquals(0, driver.exitValue(), output);
        assertTrue(output.contains("OK " + name), output);
    }
}
