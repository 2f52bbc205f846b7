package org.stasis.framework.control;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/**
 * Runs an EXEC script statement by statement in a fresh Gogo session, within
 * {@link ScriptLimits}; stops at the first failing statement, or when the client has
 * left (the statement running then completes on its own: a checkpoint is finished or
 * aborted by the coordinator, never cut in the middle; nothing after it runs).
 */
final class ScriptRunner {
    private ScriptRunner() {
    }

    /**
     * @param processor the Gogo command processor
     * @param script the script
     * @param out where results go
     * @param err where errors go
     * @param gone whether the client has left
     * @return the exit status
     */
    static int run(CommandProcessor processor, String script, PrintStream out, PrintStream err, BooleanSupplier gone) {
        String refusal = ScriptLimits.refusal(script);
        List<String> statements = null;
        if (refusal == null) {
            try {
                statements = ScriptStatements.split(script);
                refusal = ScriptLimits.refusal(statements);
            } catch (StackOverflowError | OutOfMemoryError e) {
                refusal = CommandRunner.describe(e);
            }
        }
        if (refusal != null) {
            err.println("stasis: " + refusal);
            err.flush();
            return CommandRunner.USAGE;
        }
        int status = 0;
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), out, err)) {
            ClientGone.attach(session, gone);
            for (String statement : statements) {
                if (gone.getAsBoolean()) {
                    return CommandRunner.FAILED;
                }
                status = CommandRunner.run(session, statement, out, err);
                if (status != 0) {
                    break;
                }
            }
        }
        return status;
    }
}
