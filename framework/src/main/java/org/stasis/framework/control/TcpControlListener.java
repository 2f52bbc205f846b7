package org.stasis.framework.control;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * The coordinator's optional TCP control listener ({@code stasis coordinator --listen
 * HOST:PORT}, doc/control-protocol.md). A connection must first send
 * {@code TOKEN <hex>\n} with the coordinator's secret; then it speaks the same protocol
 * as the Unix control socket, served by the same code. A wrong or missing token closes
 * the connection and logs one line with the peer's address.
 */
final class TcpControlListener implements AutoCloseable {
    /** Serves one authenticated connection: the normal control protocol. */
    interface Handler {
        void serve(InputStream in, OutputStream out) throws IOException;
    }

    private static final String TOKEN_PREFIX = "TOKEN ";
    /** Longest token line read: the prefix, 256 hex digits and a CR. */
    private static final int MAX_TOKEN_LINE = 6 + 256 + 1;
    /** How long a client may take to send its token line. */
    private static final int TOKEN_TIMEOUT_MS = 10_000;
    /** Connections that may wait for their token line at once; more are closed at once. */
    private static final int MAX_PENDING = 32;

    private final ServerSocket server;
    private final TokenFile token;
    private final Handler handler;
    private final Semaphore pending = new Semaphore(MAX_PENDING);
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "stasis-tcp-connection");
        thread.setDaemon(true);
        return thread;
    });

    private TcpControlListener(ServerSocket server, TokenFile token, Handler handler) {
        this.server = server;
        this.token = token;
        this.handler = handler;
    }

    /**
     * Binds the address and starts accepting.
     *
     * @param address where to listen
     * @param token the secret every connection must present
     * @param handler serves a connection once its token is right
     * @return the running listener
     * @throws IOException if the address cannot be bound
     */
    static TcpControlListener start(ListenAddress address, TokenFile token, Handler handler) throws IOException {
        InetSocketAddress bind = address.resolve();
        if (bind.isUnresolved()) {
            throw new IOException("unknown host '" + address.host() + "'");
        }
        ServerSocket server = new ServerSocket();
        try {
            server.setReuseAddress(true);
            server.bind(bind);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        TcpControlListener listener = new TcpControlListener(server, token, handler);
        System.err.println("stasis: control over TCP on " + listener.describe() + "; clients need the token in "
                + token.path());
        if (!bind.getAddress().isLoopbackAddress()) {
            System.err.println("stasis: warning: " + listener.describe() + " is reachable from other machines;"
                    + " the token in " + token.path() + " is its only protection (the connection is not encrypted)");
        }
        Thread acceptor = new Thread(listener::acceptLoop, "stasis-tcp-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        return listener;
    }

    /** @return the bound address and port, e.g. {@code 127.0.0.1:7070} */
    String describe() {
        return server.getInetAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        server.close();
        connections.shutdownNow();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                if (!pending.tryAcquire()) {
                    log(socket.getRemoteSocketAddress(), "too many connections waiting to present a token");
                    socket.close();
                    continue;
                }
                connections.execute(() -> serve(socket));
            } catch (IOException e) {
                if (!server.isClosed()) {
                    System.err.println("stasis: TCP control listener: " + e.getMessage());
                }
            }
        }
    }

    private void serve(Socket socket) {
        SocketAddress peer = socket.getRemoteSocketAddress();
        try (socket) {
            InputStream in = socket.getInputStream();
            boolean admitted;
            try {
                socket.setSoTimeout(TOKEN_TIMEOUT_MS);
                admitted = admit(in, peer);
                socket.setSoTimeout(0);
            } finally {
                pending.release();
            }
            if (!admitted) {
                return;
            }
            socket.setTcpNoDelay(true);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream());
            try {
                handler.serve(in, out);
            } finally {
                out.flush();
            }
        } catch (IOException e) {
            // The client went away; nothing to tell anyone.
        }
    }

    private boolean admit(InputStream in, SocketAddress peer) {
        String line;
        try {
            line = readLine(in);
        } catch (SocketTimeoutException e) {
            log(peer, "no token within " + TOKEN_TIMEOUT_MS / 1000 + " s");
            return false;
        } catch (IOException e) {
            log(peer, "missing token (" + e.getMessage() + ")");
            return false;
        }
        if (!line.startsWith(TOKEN_PREFIX)) {
            log(peer, "missing token");
            return false;
        }
        if (!token.matches(line.substring(TOKEN_PREFIX.length()).strip())) {
            log(peer, "wrong token");
            return false;
        }
        return true;
    }

    private static void log(SocketAddress peer, String why) {
        System.err.println("stasis: refused a TCP control connection from " + peer + ": " + why);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b == -1) {
                throw new IOException("connection closed before the token line ended");
            }
            if (line.size() >= MAX_TOKEN_LINE) {
                throw new IOException("first line longer than " + MAX_TOKEN_LINE + " bytes");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
