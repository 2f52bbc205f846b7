package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 18: the bounded fuzzing run of the coordinator side, through the real command
 * line (native/tests/fuzz.py coordinator): real checkpoints of a C and a Python program,
 * mutated (manifest JSON, image headers and tables, FIFOs and symlinks in their place)
 * and fed to {@code stasis verify}, {@code list} and {@code restart}; abusive control
 * protocol frames; fake agents with hostile HELLO lines and replies. No crash, no hang,
 * every refusal one line, the coordinator answers {@code status} after every case.
 * Stored crashers (native/tests/fuzz-crashers) are replayed first.
 * {@code -Dstasis.fuzz.seconds} (default 30; the long soak is bench/fuzz.sh) and
 * {@code -Dstasis.fuzz.seed} (default 18) tune it.
 */
@Timeout(600)
class FuzzIT {
    @Test
    void hostileCheckpointsFramesAndAgentsNeitherCrashNorHangTheCoordinator() throws Exception {
        Path repo = Path.of(System.getProperty("stasis.repo", "..")).toAbsolutePath().normalize();
        Path dist = Path.of(System.getProperty("stasis.dist", "../dist")).toAbsolutePath().normalize();
        ProcessBuilder builder = new ProcessBuilder("python3", repo.resolve("native/tests/fuzz.py").toString(),
                "coordinator", dist.toString(), "--seed", System.getProperty("stasis.fuzz.seed", "18"),
                "--seconds", System.getProperty("stasis.fuzz.seconds", "30"));
        builder.redirectErrorStream(true);
        Process fuzz = builder.start();
        String output = new String(fuzz.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!fuzz.waitFor(60, TimeUnit.SECONDS)) {
            fuzz.destroy();
        }
        System.out.print(output);
        assertEquals(0, fuzz.exitValue(), "the fuzzer found crashes or hangs:\n" + output);
    }
}
