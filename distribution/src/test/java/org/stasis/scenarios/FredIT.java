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
 * FReD, the reversible debugger (python/stasis/fred): real pdb sessions under
 * {@code python3 -m stasis.fred}, driven through a pseudo-terminal by
 * python/tests/fred/fred_test.py, one scenario of issue #13 per run.
 */
@Timeout(600)
class FredIT {
    private static final Path REPO = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
    private static final Path DIST = Path.of(System.getProperty("stasis.dist", "../dist")).toAbsolutePath().normalize();

    @ParameterizedTest
    @ValueSource(strings = {"autocount_binary_search", "autocount", "linked_list", "step_back_into",
        "reverse_continue", "undo", "threads", "bad_input", "divergence"})
    void scenario(String name) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("python3",
                REPO.resolve("python/tests/fred/fred_test.py").toString(), name)
                .redirectErrorStream(true);
        builder.environment().put("STASIS_HOME", DIST.toString());
        Process driver = builder.start();
        driver.getOutputStream().close();
        String output = new String(driver.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(driver.waitFor(60, TimeUnit.SECONDS), "the FReD test driver did not end:\n" + output);
        assertEquals(0, driver.exitValue(), output);
        assertTrue(output.contains("OK " + name), output);
    }
}
