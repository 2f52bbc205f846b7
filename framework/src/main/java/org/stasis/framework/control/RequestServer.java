package org.stasis.framework.control;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.felix.service.command.CommandProcessor;

/**
 * Serves complete control requests (doc/control-protocol.md) on a worker thread: PING,
 * EXEC (cancelled when the client leaves: no further statement runs) and SHELL (closed
 * after a long idle time).
 */
final class RequestServer implements AutoCloseable {
    private final CommandProcessor processor;
    private final String banner;
    private final long shellIdleMillis;
    private final ExecutorService watchers = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "stasis-control-watch");
        thread.setDaemon(true);
        return thread;
    });
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "stasis-control-timer");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * @param processor the Gogo command processor
     * @param banner the first line of a SHELL session
     * @param shellIdleMillis how long a SHELL session may send nothing before it is closed
     */
    RequestServer(CommandProcessor processor, String banner, long shellIdleMillis) {
        this.processor = processor;
        this.banner = banner;
        this.shellIdleMillis = shellIdleMillis;
    }

    @Override
    public void close() {
        watchers.shutdownNow();
        timer.shutdownNow();
    }

    /** Serves one complete request on a worker thread, then closes the connection. */
    void serve(ControlRequest request) {
        try (SocketChannel channel = request.channel()) {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 8192);
            try {
                handle(request, out);
            } finally {
                out.flush();
            }
        } catch (IOException e) {
            // The client went away; nothing to tell anyone.
        }
    }

    private void handle(ControlRequest request, OutputStream out) throws IOException {
        String line = request.line();
        if (line.equals("PING")) {
            FrameOutputStream.exit(out, 0);
        } else if (line.startsWith("EXEC ")) {
            exec(request.script(), request.channel(), out);
        } else if (line.equals("SHELL")) {
            InputStream in = new SequenceInputStream(new ByteArrayInputStream(request.rest()),
                    Channels.newInputStream(request.channel()));
            shell(new IdleInputStream(in, timer, request.channel(), shellIdleMillis), out);
        } else {
            new FrameOutputStream(out, 'E').write(("stasis: bad request '" + line + "'\n").getBytes(StandardCharsets.UTF_8));
            FrameOutputStream.exit(out, CommandRunner.USAGE);
        }
    }

    private void exec(String script, SocketChannel channel, OutputStream connection) throws IOException {
        PrintStream out = new PrintStream(new FrameOutputStream(connection, 'O'), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FrameOutputStream(connection, 'E'), false, StandardCharsets.UTF_8);
        AtomicBoolean gone = new AtomicBoolean();
        watchers.execute(() -> watchForHangUp(channel, gone)); // ends when the channel closes after the X frame
        int status = ScriptRunner.run(processor, script, out, err, gone::get);
        out.flush();
        err.flush();
        FrameOutputStream.exit(connection, status);
    }

    // The client sends nothing after its EXEC: end of input means it left, and no further statement runs.
    private static void watchForHangUp(SocketChannel channel, AtomicBoolean gone) {
        ByteBuffer buffer = ByteBuffer.allocate(256);
        try {
            while (channel.read(buffer) >= 0) {
                buffer.clear();
            }
            gone.set(true);
        } catch (IOException e) {
            gone.set(true);
        }
    }

    private void shell(InputStream in, OutputStream connection) throws IOException {
        PrintStream out = new PrintStream(connection, true, StandardCharsets.UTF_8);
        new InteractiveSession(processor, banner).run(in, out);
    }
}
