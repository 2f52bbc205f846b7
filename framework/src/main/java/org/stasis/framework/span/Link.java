package org.stasis.framework.span;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One member link (doc/several-hosts.md): newline-delimited JSON objects both ways, a
 * reader thread that hands each message on, and a ping every 2 s; 10 s without a word
 * from the peer (or the connection closing) is a lost link. Only coordinators that span
 * hosts have one.
 */
final class Link implements AutoCloseable {
    static final long PING_MILLIS = 2_000;
    static final long LOST_MILLIS = 10_000;
    static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final int MAX_LINE = 64 << 20;

    /** Hears the peer. */
    interface Handler {
        /** @param message a message other than ping/pong */
        void message(ObjectNode message);

        /** @param why one line: the link is lost, never to be used again */
        void lost(String why);
    }

    private final String peer;
    private final BufferedReader in;
    private final OutputStream out;
    private final Closeable connection;
    private final ScheduledExecutorService timer;
    private volatile long heard = System.nanoTime();
    private volatile boolean closed;
    private Handler handler;

    /**
     * @param peer what the peer is called in messages (host name or address)
     * @param in the connection's input, positioned after the request line
     * @param out the connection's output
     * @param connection closes both
     */
    Link(String peer, BufferedReader in, OutputStream out, Closeable connection) {
        this.peer = peer;
        this.in = in;
        this.out = out;
        this.connection = connection;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "stasis-span-ping-" + peer);
            t.setDaemon(true);
            return t;
        });
    }

    /** @return the peer's name */
    String peer() {
        return peer;
    }

    /** @return a new message of {@code type} */
    static ObjectNode message(String type) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", type);
        return node;
    }

    /**
     * Reads one message synchronously (the handshake, before {@link #start}).
     *
     * @return the message, or null at end of input
     * @throws IOException if the line is not a JSON object
     */
    ObjectNode readOne() throws IOException {
        String line = in.readLine();
        if (line == null) {
            return null;
        }
        if (line.length() > MAX_LINE) {
            throw new IOException("a message of more than " + MAX_LINE + " characters");
        }
        if (!(JSON.readTree(line) instanceof ObjectNode node)) {
            throw new IOException("a message that is not a JSON object");
        }
        heard = System.nanoTime();
        return node;
    }

    /** Starts reading and pinging. */
    void start(Handler onMessage) {
        this.handler = onMessage;
        Thread reader = new Thread(this::readLoop, "stasis-span-link-" + peer);
        reader.setDaemon(true);
        reader.start();
        timer.scheduleWithFixedDelay(this::tick, PING_MILLIS, PING_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Sends one message; a failure closes the link (the reader reports it lost).
     *
     * @param message the message
     * @return whether it was sent
     */
    boolean send(ObjectNode message) {
        if (closed) {
            return false;
        }
        try {
            byte[] bytes = (JSON.writeValueAsString(message) + "\n").getBytes(StandardCharsets.UTF_8);
            synchronized (out) {
                out.write(bytes);
                out.flush();
            }
            return true;
        } catch (IOException e) {
            lose("cannot send to " + peer + ": " + e.getMessage());
            return false;
        }
    }

    /** @return whether the link was closed or lost */
    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        try {
            connection.close();
        } catch (IOException e) {
            // closed anyway
        }
    }

    private void readLoop() {
        String why = "the connection to " + peer + " closed";
        try {
            ObjectNode message;
            while ((message = readOne()) != null) {
                String type = message.path("type").asText();
                if (type.equals("ping")) {
                    send(message("pong"));
                } else if (!type.equals("pong")) {
                    handler.message(message);
                }
            }
        } catch (IOException | RuntimeException e) {
            why = "the link to " + peer + " failed: " + e.getMessage();
        }
        lose(why);
    }

    private void tick() {
        if (System.nanoTime() - heard > TimeUnit.MILLISECONDS.toNanos(LOST_MILLIS)) {
            lose("no word from " + peer + " for " + LOST_MILLIS / 1000 + " s");
            return;
        }
        send(message("ping"));
    }

    private void lose(String why) {
        boolean first;
        synchronized (this) {
            first = !closed;
            close();
        }
        if (first && handler != null) {
            handler.lost(why);
        }
    }
}
