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

    private CommandRunner() {
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
            out.flush();
            err.println("stasis: " + describe(e));
            err.flush();
            return status(e);
        }
    }

    static String describe(Throwable e) {
        if (e.getClass().getSimpleName().equals("CommandNotFoundException")) {
            return e.getMessage().replace("Command not found:", "unknown command:")
                    + "; list the commands with: stasis exec help";
        }
        String message = e.getMessage();
        if (message != null && message.startsWith("Cannot coerce ")) {
            String command = message.substring("Cannot coerce ".length()).replaceAll("\\(.*", "");
            return "wrong arguments for '" + command + "'; see: stasis exec 'help " + command + "'";
        }
        return message == null || message.isBlank() ? e.getClass().getName() : message.lines().findFirst().orElse("");
    }

    private static int status(Exception e) {
        return e instanceof IllegalArgumentException ? USAGE : FAILED;
    }
}
