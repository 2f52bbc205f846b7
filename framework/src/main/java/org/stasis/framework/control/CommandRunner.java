package org.stasis.framework.control;

import java.io.PrintStream;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;

/**
 * Runs one command line in a Gogo session and turns the outcome into what the user
 * sees: the result printed, or one line on stderr and an exit status.
 */
final class CommandRunner {
    /** Exit status of a command that failed. */
    static final int FAILED = 1;
    /** Exit status of a command that was called wrongly. */
    static final int USAGE = 2;

    private static volatile String coordinatorName = "default";

    private CommandRunner() {
    }

    /** @param name the coordinator's name, which hints in error messages carry when it is not the default */
    static void coordinatorName(String name) {
        coordinatorName = name;
    }

    /**
     * @param session the session to run in
     * @param line the command line
     * @param out where results go
     * @param err where errors go
     * @return the exit status: 0, {@link #FAILED} or {@link #USAGE}
     */
    static int run(CommandSession session, CharSequence line, PrintStream out, PrintStream err) {
        try {
            Object result = session.execute(line);
            if (result != null) {
                CharSequence text = session.format(result, Converter.INSPECT);
                out.println(text);
            }
            out.flush();
            return 0;
        } catch (Exception e) {
            output(e).ifPresent(out::println);
            out.flush();
            err.println("stasis: " + Hints.named(describe(e), coordinatorName));
            err.flush();
            return status(e);
        } catch (StackOverflowError | OutOfMemoryError e) {
            out.flush();
            err.println("stasis: " + describe(e));
            err.flush();
            return FAILED;
        }
    }

    // What a failed command prints on stdout all the same (e.g. verify --json's verdict).
    private static java.util.Optional<String> output(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CommandFailedException failed && failed.output() != null) {
                return java.util.Optional.of(failed.output());
            }
        }
        return java.util.Optional.empty();
    }

    static String describe(Throwable thrown) {
        Throwable e = resourceError(thrown);
        if (e instanceof StackOverflowError) {
            return "the command nests too deeply for the coordinator's stack; simplify it";
        }
        if (e instanceof OutOfMemoryError) {
            return "the coordinator ran out of memory for this command (" + e.getMessage()
                    + "); ask for less, or raise -Xmx in STASIS_JAVA_OPTS";
        }
        if (e.getClass().getSimpleName().equals("CommandNotFoundException")) {
            String command = e.getMessage().replace("Command not found:", "").trim();
            return command.startsWith("stasis:")
                    ? "unknown command '" + command.substring("stasis:".length()) + "'; see stasis --help"
                    : "unknown command: " + command + "; list the commands with: stasis exec help";
        }
        String message = e.getMessage();
        if (message != null && message.startsWith("Cannot coerce ")) {
            String command = message.substring("Cannot coerce ".length()).replaceAll("\\(.*", "");
            return "wrong arguments for '" + command + "'; see: stasis exec 'help " + command + "'";
        }
        return message == null || message.isBlank() ? e.getClass().getName() : message.lines().findFirst().orElse("");
    }

    // A StackOverflowError or OutOfMemoryError in a command's cause chain (Gogo wraps what commands throw), else e.
    private static Throwable resourceError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof StackOverflowError || t instanceof OutOfMemoryError) {
                return t;
            }
        }
        return e;
    }

    private static int status(Exception e) {
        return e instanceof IllegalArgumentException && resourceError(e) == e ? USAGE : FAILED;
    }
}
