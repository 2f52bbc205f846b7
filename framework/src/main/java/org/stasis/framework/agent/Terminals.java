package org.stasis.framework.agent;

import java.util.Optional;

import com.sun.jna.LastErrorException;

/** Reads a process's terminal settings through /proc/PID/fd/N. */
final class Terminals {
    /** sizeof(struct termios) of the C library on x86-64, the layout the restorer applies. */
    static final int TERMIOS_SIZE = 60;

    private Terminals() {
    }

    static Optional<byte[]> settings(int hostPid, int fd) {
        String path = "/proc/" + hostPid + "/fd/" + fd;
        int terminal;
        try {
            terminal = LibC.INSTANCE.open(path, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            return Optional.empty();
        }
        try {
            byte[] termios = new byte[TERMIOS_SIZE];
            LibC.INSTANCE.tcgetattr(terminal, termios);
            return Optional.of(termios);
        } catch (LastErrorException e) {
            return Optional.empty();
        } finally {
            LibC.INSTANCE.close(terminal);
        }
    }
}
