package org.stasis.framework.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/**
 * A read-eval-print loop over a Gogo session: the foreground console of
 * {@code stasis coordinator} and every {@code stasis shell} connection.
 */
final class InteractiveSession {
    private static final String PROMPT = "g! ";

    private final CommandProcessor processor;
    private final String banner;

    InteractiveSession(CommandProcessor processor, String banner) {
        this.processor = processor;
        this.banner = banner;
    }

    /**
     * Runs until the input ends or the user types {@code exit}.
     *
     * @param in the user's input
     * @param out where results, errors and prompts go
     * @throws IOException if the input cannot be read
     */
    void run(InputStream in, PrintStream out) throws IOException {
        try (CommandSession session = processor.createSession(in, out, out)) {
            out.println(banner);
            while (true) {
                out.print(PROMPT);
                out.flush();
                String line = readLine(in);
                if (line == null || line.strip().equals("exit")) {
                    break;
                }
                if (!line.isBlank()) {
                    CommandRunner.run(session, line, out, out);
                }
            }
            out.println();
            out.flush();
        }
    }

    // Unbuffered on purpose: commands that read the session's input must see what follows the line.
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
        }
        if (b == -1 && line.size() == 0) {
            return null;
        }
        return line.toString(StandardCharsets.UTF_8).replace("\r", "");
    }
}
