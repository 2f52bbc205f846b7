package org.stasis.framework.control;

import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Input of a connection that is closed when a read waits longer than a timeout: a SHELL
 * session nobody types into does not hold a worker forever. Time spent running a
 * command (not reading) does not count.
 */
final class IdleInputStream extends FilterInputStream {
    private final ScheduledExecutorService timer;
    private final Closeable connection;
    private final long timeoutMillis;

    IdleInputStream(InputStream in, ScheduledExecutorService timer, Closeable connection, long timeoutMillis) {
        super(in);
        this.timer = timer;
        this.connection = connection;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public int read() throws IOException {
        ScheduledFuture<?> alarm = arm();
        try {
            return super.read();
        } finally {
            alarm.cancel(false);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        ScheduledFuture<?> alarm = arm();
        try {
            return super.read(b, off, len);
        } finally {
            alarm.cancel(false);
        }
    }

    private ScheduledFuture<?> arm() {
        return timer.schedule(() -> {
            try {
                connection.close();
            } catch (IOException e) {
                // already closed
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }
}
