package org.stasis.plugin.pty;

import java.io.IOException;

/**
 * Takes the bytes buffered in a pseudo-terminal out of it, leaving its settings and
 * modes as they were.
 */
final class Drain {
    private static final int QUIET_MILLIS = 20;

    private final Terminal t;

    Drain(Terminal t) {
        this.t = t;
    }

    /** @return what the slave side wrote and the master's reader has not read yet */
    byte[] output(int master) throws IOException {
        int flags = t.statusFlags(master);
        boolean packet = t.packetMode(master);
        t.statusFlags(master, flags | Terminal.O_NONBLOCK);
        if (packet) {
            t.packetMode(master, false);
        }
        try {
            return t.readAvailable(master, QUIET_MILLIS);
        } finally {
            if (packet) {
                t.packetMode(master, true);
            }
            t.statusFlags(master, flags);
        }
    }

    /** @return what the master side wrote and the slave's reader has not read yet, partial line included (none without a slave) */
    byte[] input(Integer slave) throws IOException {
        if (slave == null) {
            return new byte[0];
        }
        Termios settings = t.settings(slave);
        int flags = t.statusFlags(slave);
        t.statusFlags(slave, flags | Terminal.O_NONBLOCK);
        t.settings(slave, settings.forDraining());
        try {
            return t.readAvailable(slave, QUIET_MILLIS);
        } finally {
            t.settings(slave, settings);
            t.statusFlags(slave, flags);
        }
    }
}
