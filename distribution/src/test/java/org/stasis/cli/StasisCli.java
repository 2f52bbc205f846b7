package org.stasis.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code bin/stasis} with a private runtime directory, so tests never
 * meet the user's coordinators and clean up only what they started, and a private framework
 * cache directory in it ({@link #cacheDirectory()}), so they never fill or use the user's.
 */
public final class StasisCli {
    /** What a command did. */
    public record Result(int status, String out, String err) {
        @Override
        public String toString() {
            return "exit " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private final Path runtimeDirectory;
    private final Path stasis;

    public StasisCli(Path runtimeDirectory) {
        this(runtimeDirectory, Path.of(System.getProperty("stasis.dist", "../dist")));
    }

    /** The command line of the distribution in {@code dist} (a copy of the built one, say). */
    public StasisCli(Path runtimeDirectory, Path dist) {
        this.runtimeDirectory = runtimeDirectory;
        this.stasis = dist.resolve("bin").resolve("stasis").toAbsolutePath();
    }

    /** @return where the coordinators it starts keep their framework caches ({@code STASIS_CACHE_DIR}) */
    public Path cacheDirectory() {
        return runtimeDirectory.resolve("cache");
    }

    /**
     * Starts a command without waiting, its output appended to a file (the way a
     * shell's >> would), its input /dev/null.
     */
    public Process start(Path output, String... args) throws IOException {
        return start(output, Map.of(), args);
    }

    /** Like {@link #start(Path, String...)}, with more variables in the command's environment. */
    public Process start(Path output, Map<String, String> environment, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(stasis.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("STASIS_CACHE_DIR", cacheDirectory().toString());
        builder.environment().putAll(environment);
        builder.environment().put("STASIS_RUNTIME_DIR", runtimeDirectory.toString());
        builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return builder.start();
    }

    public Result run(String... args) {
        return runWithInput(null, args);
    }

    public Result runWithInput(String input, String... args) {
        List<String> command = new ArrayList<>();
        command.add(stasis.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.put("STASIS_RUNTIME_DIR", runtimeDirectory.toString());
        env.put("STASIS_CACHE_DIR", cacheDirectory().toString());
        try {
            Path out = Files.createTempFile("stasis-out", ".txt");
            Path err = Files.createTempFile("stasis-err", ".txt");
            try {
                builder.redirectOutput(out.toFile()).redirectError(err.toFile());
                if (input == null) {
                    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                }
                Process process = builder.start();
                if (input != null) {
                    try (var stdin = process.getOutputStream()) {
                        stdin.write(input.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new IllegalStateException("stasis " + String.join(" ", args) + " did not finish in 120 s");
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
