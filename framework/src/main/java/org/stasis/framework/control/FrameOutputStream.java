package org.stasis.framework.control;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes what a command prints as frames of one type on the control connection
 * (doc/control-protocol.md), so stdout and stderr stay apart and output streams to
 * the client while a long command runs.
 */
final class FrameOutputStream extends OutputStream {
    private final OutputStream connection;
    private final char type;

    /**
     * @param connection the connection; shared by the stdout and stderr streams, so
     *        every frame is written while holding its lock
     * @param type {@code O}, {@code E} or {@code X}
     */
    FrameOutputStream(OutputStream connection, char type) {
        this.connection = connection;
        this.type = type;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] { (byte) b }, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (length == 0) {
            return;
        }
        synchronized (connection) {
            connection.write((type + " " + length + "\n").getBytes(StandardCharsets.US_ASCII));
            connection.write(bytes, offset, length);
            connection.flush();
        }
    }

    static void exit(OutputStream connection, int status) throws IOException {
        new FrameOutputStream(connection, 'X').write(Integer.toString(status).getBytes(StandardCharsets.US_ASCII));
    }
}
