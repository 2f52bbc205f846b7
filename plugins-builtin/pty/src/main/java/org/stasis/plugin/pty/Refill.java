package org.stasis.plugin.pty;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Moves saved bytes back into a pseudo-terminal without the line discipline changing
 * them: input (for the slave's reader) is written to the master with translations,
 * signals and editing characters off and echo on, the echo telling when the line
 * discipline has taken it (it is then read back and dropped); output (for the
 * master's reader) is written to the slave without output processing. Canonical
 * input stays line by line, a partial line stays a partial line.
 */
final class Refill {
    private static final long PATIENCE = TimeUnit.SECONDS.toNanos(2);

    private final Terminal t;

    Refill(Terminal t) {
        this.t = t;
    }

    void refill(int master, int slave, Termios settings, byte[] input, byte[] output) throws IOException {
        if (input.length == 0 && output.length == 0) {
            return;
        }
        int flags = t.statusFlags(master);
        boolean packet = t.packetMode(master);
        t.statusFlags(master, flags | Terminal.O_NONBLOCK);
        if (packet) {
            t.packetMode(master, false);
        }
        try {
            if (input.length > 0) {
                input(master, settings, input);
            }
            if (output.length > 0) {
                t.settings(master, settings.forRefillingOutput());
                t.writeAll(slave, output, System.nanoTime() + PATIENCE);
            }
        } finally {
            t.settings(master, settings);
            if (packet) {
                t.packetMode(master, true);
            }
            t.statusFlags(master, flags);
        }
    }

    private void input(int master, Termios settings, byte[] input) throws IOException {
        t.settings(master, settings.forRefillingInput());
        long deadline = System.nanoTime() + PATIENCE;
        t.writeAll(master, input, deadline);
        int echoed = 0;
        while (echoed < input.length && System.nanoTime() < deadline) {
            echoed += t.readAvailable(master, 10).length;
        }
        if (echoed < input.length) {
            throw new IOException("the terminal took only " + echoed + " of " + input.length + " bytes of input back");
        }
    }
}
