package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Waiting for the lines the scenario programs (samples/several-hosts) write to their output files. */
final class Lines {
    /** The scenario programs of issue #16. */
    static final Path PROGRAMS = Path.of(System.getProperty("stasis.repo", ".."), "samples", "several-hosts")
            .toAbsolutePath().normalize();
    /** The system's python3 (the programs need only its standard library). */
    static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";

    private Lines() {
    }

    /** @return the command that runs scenario program {@code script} with {@code args} */
    static String[] program(String script, String... args) {
        String[] command = new String[args.length + 2];
        command[0] = PYTHON;
        command[1] = PROGRAMS.resolve(script).toString();
        System.arraycopy(args, 0, command, 2, args.length);
        return command;
    }

    static List<String> read(Path file) throws IOException {
        return Files.exists(file) ? Files.readAllLines(file) : List.of();
    }

    static int count(Path file) throws IOException {
        return read(file).size();
    }

    /**
     * Waits for a line after the first {@code skip} lines of {@code file} that matches;
     * a line starting with FAIL (a program's own verdict) fails at once.
     *
     * @param context more to say if it fails (logs of the coordinators...)
     */
    static String await(Path file, int skip, Predicate<String> wanted, Duration limit, Supplier<String> context)
            throws Exception {
        return await(file, skip, wanted, limit, context, null);
    }

    /**
     * Like {@link #await(Path, int, Predicate, Duration, Supplier)}, failing at once when
     * {@code writer} (the process that writes the file, if not null) has ended without the line.
     */
    static String await(Path file, int skip, Predicate<String> wanted, Duration limit, Supplier<String> context,
            Process writer) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            for (String line : read(file).stream().skip(skip).toList()) {
                if (line.startsWith("FAIL")) {
                    fail("a program reported " + line + "\n" + show(file) + context.get());
                }
                if (wanted.test(line)) {
                    return line;
                }
            }
            if (writer != null && !writer.isAlive() && read(file).stream().skip(skip).noneMatch(wanted)) {
                fail("the program writing " + file + " ended (exit " + writer.exitValue()
                        + ") without the expected line\n" + show(file) + context.get());
            }
            if (System.nanoTime() > deadline) {
                fail("no expected line in " + file + " within " + limit.toSeconds() + " s\n" + show(file)
                        + context.get());
            }
            Thread.sleep(50);
        }
    }

    /** Waits for a progress line (its number in group 1 of {@code progress}) numbered at least {@code atLeast}. */
    static int awaitProgress(Path file, Pattern progress, int atLeast, Duration limit, Supplier<String> context,
            Process writer) throws Exception {
        return awaitProgress(file, 0, progress, atLeast, limit, context, writer);
    }

    /** Like {@link #awaitProgress(Path, Pattern, int, Duration, Supplier, Process)}, after the first {@code skip} lines. */
    static int awaitProgress(Path file, int skip, Pattern progress, int atLeast, Duration limit,
            Supplier<String> context, Process writer) throws Exception {
        String line = await(file, skip, l -> {
            Matcher m = progress.matcher(l);
            return m.matches() && Integer.parseInt(m.group(1)) >= atLeast;
        }, limit, context, writer);
        Matcher m = progress.matcher(line);
        m.matches();
        return Integer.parseInt(m.group(1));
    }

    /** @return the highest progress number in {@code file} so far (0 if none) */
    static int lastProgress(Path file, Pattern progress) throws IOException {
        return read(file).stream().map(progress::matcher).filter(Matcher::matches)
                .mapToInt(m -> Integer.parseInt(m.group(1))).max().orElse(0);
    }

    /** @return the file's name and its text (its last 60 lines), for a failure message */
    static String show(Path file) throws IOException {
        List<String> lines = read(file);
        return "--- " + file.getFileName() + " (" + lines.size() + " lines)\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size())) + "\n";
    }
}
