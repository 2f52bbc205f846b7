package org.stasis.scenarios.hosts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command to its end, with a time limit, and keeps its output (stdout and stderr apart). */
public final class Commands {
    /** What a command did: its exit status, its stdout and its stderr. */
    public record Result(int status, String out, String err) {
        /** @return stdout and stderr together */
        public String output() {
            return out + err;
        }

        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Commands() {
    }

    static Result run(List<String> command, Duration limit) {
        return run(new ProcessBuilder(command), limit);
    }

    /** Runs what {@code builder} describes (its environment as set), its stdin /dev/null. */
    static Result run(ProcessBuilder builder, Duration limit) {
        try {
            Path out = Files.createTempFile("stasis-hosts-out", ".txt");
            Path err = Files.createTempFile("stasis-hosts-err", ".txt");
            try {
                builder.redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                Process process = builder.start();
                if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                    return new Result(-1, Files.readString(out), Files.readString(err) + "(killed: `"
                            + String.join(" ", builder.command()) + "` did not finish in " + limit.toSeconds()
                            + " s)\n");
                }
                return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
