package org.stasis.plugin.pty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;

/**
 * The terminal system calls as the plugin uses them: errors become IOExceptions that
 * say which call failed on which pseudo-terminal; "would block" and "the other side
 * is closed" are results, not errors.
 */
final class Terminal {
    static final int O_RDWR = 02;
    static final int O_NOCTTY = 0400;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int EAGAIN = 11;
    private static final int EIO = 5;
    private static final long TIOCGPTN = 0x80045430L;
    private static final long FIONREAD = 0x541B;
    private static final long TIOCSPTLCK = 0x40045431L;
    private static final long TIOCGPTLCK = 0x80045439L;
    private static final long TIOCPKT = 0x5420L;
    private static final long TIOCGPKT = 0x80045438L;
    private static final long TIOCGWINSZ = 0x5413L;
    private static final long TIOCSWINSZ = 0x5414L;
    private static final short POLLIN = 1;

    private final LibC c;

    Terminal(LibC c) {
        this.c = c;
    }

    static Terminal load() {
        return new Terminal(Native.load("c", LibC.class));
    }

    private static IOException fail(String call, LastErrorException e) {
        String reason = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^\\[\\d+\\]\\s*", "");
        return new IOException(call + ": " + reason + " (errno " + e.getErrorCode() + ")", e);
    }

    int open(String path, int flags) throws IOException {
        try {
            return c.open(path, flags | O_CLOEXEC | O_NOCTTY, 0);
        } catch (LastErrorException e) {
            throw fail("open " + path, e);
        }
    }

    void close(int fd) {
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // nothing left to do with it
        }
    }

    /** @return the number N of the pseudo-terminal whose master is {@code master} (/dev/pts/N) */
    int index(int master) throws IOException {
        return getInt(master, TIOCGPTN, "TIOCGPTN");
    }

    boolean locked(int master) throws IOException {
        return getInt(master, TIOCGPTLCK, "TIOCGPTLCK") != 0;
    }

    void lock(int master, boolean locked) throws IOException {
        setInt(master, TIOCSPTLCK, locked ? 1 : 0, "TIOCSPTLCK");
    }

    boolean packetMode(int master) throws IOException {
        return getInt(master, TIOCGPKT, "TIOCGPKT") != 0;
    }

    void packetMode(int master, boolean on) throws IOException {
        setInt(master, TIOCPKT, on ? 1 : 0, "TIOCPKT");
    }

    byte[] windowSize(int fd) throws IOException {
        byte[] size = new byte[8];
        try {
            c.ioctl(fd, TIOCGWINSZ, size);
            return size;
        } catch (LastErrorException e) {
            throw fail("TIOCGWINSZ", e);
        }
    }

    void windowSize(int fd, byte[] size) throws IOException {
        try {
            c.ioctl(fd, TIOCSWINSZ, size);
        } catch (LastErrorException e) {
            throw fail("TIOCSWINSZ", e);
        }
    }

    Termios settings(int fd) throws IOException {
        byte[] termios = new byte[Termios.SIZE];
        try {
            c.tcgetattr(fd, termios);
            return new Termios(termios);
        } catch (LastErrorException e) {
            throw fail("tcgetattr", e);
        }
    }

    void settings(int fd, Termios termios) throws IOException {
        try {
            c.tcsetattr(fd, 0, termios.bytes());
        } catch (LastErrorException e) {
            throw fail("tcsetattr", e);
        }
    }

    int statusFlags(int fd) throws IOException {
        try {
            return c.fcntl(fd, F_GETFL, 0);
        } catch (LastErrorException e) {
            throw fail("F_GETFL", e);
        }
    }

    void statusFlags(int fd, int flags) throws IOException {
        try {
            c.fcntl(fd, F_SETFL, flags);
        } catch (LastErrorException e) {
            throw fail("F_SETFL", e);
        }
    }

    /**
     * Reads what {@code fd} (non-blocking) has, waiting up to {@code quietMillis} for
     * more after each chunk: bytes another process wrote just before are still on
     * their way through the kernel's flip buffers.
     */
    byte[] readAvailable(int fd, int quietMillis) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[65536];
        while (true) {
            long n;
            try {
                n = c.read(fd, buffer, buffer.length);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EIO) {
                    return out.toByteArray();          // a master whose slave is closed, once emptied
                }
                if (e.getErrorCode() != EAGAIN) {
                    throw fail("read", e);
                }
                if (!readable(fd, quietMillis)) {
                    return out.toByteArray();
                }
                continue;
            }
            if (n <= 0) {
                return out.toByteArray();
            }
            out.write(buffer, 0, (int) n);
        }
    }

    /** Writes all of {@code data}, waiting while the terminal's buffers are full (up to the deadline). */
    void writeAll(int fd, byte[] data, long deadlineNanos) throws IOException {
        int done = 0;
        while (done < data.length) {
            byte[] rest = Arrays.copyOfRange(data, done, data.length);
            try {
                done += (int) c.write(fd, rest, rest.length);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EAGAIN || System.nanoTime() > deadlineNanos) {
                    throw fail("write", e);
                }
                sleep(5);
            }
        }
    }

    /** @return the bytes waiting to be read on {@code fd} (FIONREAD) */
    int queued(int fd) throws IOException {
        return getInt(fd, FIONREAD, "FIONREAD");
    }

    boolean readable(int fd, int millis) throws IOException {
        int[] poll = {fd, POLLIN};
        try {
            return c.poll(poll, 1, millis) > 0;
        } catch (LastErrorException e) {
            throw fail("poll", e);
        }
    }

    private int getInt(int fd, long request, String name) throws IOException {
        int[] value = new int[1];
        try {
            c.ioctl(fd, request, value);
            return value[0];
        } catch (LastErrorException e) {
            throw fail(name, e);
        }
    }

    private void setInt(int fd, long request, int value, String name) throws IOException {
        try {
            c.ioctl(fd, request, new int[] {value});
        } catch (LastErrorException e) {
            throw fail(name, e);
        }
    }

    private static void sleep(int millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
