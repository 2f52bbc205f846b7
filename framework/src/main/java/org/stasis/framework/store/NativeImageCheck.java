package org.stasis.framework.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The restorer's own validation of a memory image ({@code stasis-restore --check
 * IMAGE}): every rule it applies before it touches anything (counts, bounds, overlaps,
 * entry point and stack, names, kinds, every page's checksum), so that {@code stasis
 * verify} refuses exactly what a restart would refuse, with the same line. The rules
 * live in one place: native/restore/imgcheck.c.
 */
public final class NativeImageCheck {
    private static final long TIMEOUT_SECONDS = 60;
    private static final int MAX_OUTPUT = 4096;
    private static final String PREFIX = "stasis: ";

    private NativeImageCheck() {
    }

    /**
     * @param restorer the {@code stasis-restore} binary
     * @param image the image file
     * @throws CheckpointInvalidException with the restorer's one line (without its
     *         {@code stasis: } prefix) if it would refuse the image, or why it could not run
     */
    public static void check(Path restorer, Path image) throws CheckpointInvalidException {
        Process process;
        try {
            process = new ProcessBuilder(List.of(restorer.toString(), "--check", image.toString()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot run " + restorer + " to check " + image + ": " + e.getMessage()
                    + " (is the Stasis installation complete?)", e);
        }
        StringBuilder said = new StringBuilder();
        Thread reader = new Thread(() -> {
            String text = readBounded(process.getErrorStream());
            synchronized (said) {
                said.append(text);
            }
        }, "stasis-image-check");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new CheckpointInvalidException(restorer + " --check " + image + " did not answer within "
                        + TIMEOUT_SECONDS + " s");
            }
            reader.join(TimeUnit.SECONDS.toMillis(5));
            String output;
            synchronized (said) {
                output = said.toString();
            }
            int status = process.exitValue();
            if (status == 0) {
                return;
            }
            String line = output.lines().filter(l -> l.startsWith(PREFIX)).findFirst()
                    .orElse(output.isBlank() ? restorer + " --check exited with status " + status : output.strip());
            throw new CheckpointInvalidException(line.startsWith(PREFIX) ? line.substring(PREFIX.length()) : line);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CheckpointInvalidException("interrupted while checking " + image, e);
        } finally {
            process.destroyForcibly();
        }
    }

    // A few lines at most; what is beyond the bound is drained, not kept.
    private static String readBounded(InputStream in) {
        byte[] kept = new byte[MAX_OUTPUT];
        int have = 0;
        byte[] buffer = new byte[1024];
        try (in) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                int take = Math.min(n, MAX_OUTPUT - have);
                System.arraycopy(buffer, 0, kept, have, take);
                have += take;
            }
        } catch (IOException e) {
            // the process was ended: what it said so far is all there is
        }
        return new String(kept, 0, have, StandardCharsets.UTF_8);
    }
}
