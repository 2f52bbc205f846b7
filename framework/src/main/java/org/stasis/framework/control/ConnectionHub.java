package org.stasis.framework.control;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * Accepts control connections and reads their requests on one thread, without a thread
 * per connection: idle or slow clients cost a descriptor and a few bytes, never a worker.
 * Only complete requests go to the bounded worker pool. Bounds ({@link HubLimits}): idle
 * and total time to send a request, connections pending at once overall and per source
 * (the oldest is dropped to make room), bytes pending. When accepting fails (no
 * descriptors left) it backs off and drops its oldest pending connection; log lines are
 * rate-limited.
 */
final class ConnectionHub implements AutoCloseable {
    private static final long MAX_BACKOFF_MS = 1_000;
    /** The source of every Unix socket connection: they are all the coordinator's own user. */
    static final String LOCAL = "local";

    /** A listening socket and how its connections are admitted. */
    private record Listener(ServerSocketChannel server, boolean tcp) {
    }

    private final Selector selector;
    private final List<ServerSocketChannel> servers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final HubLimits limits;
    private final Workers workers;
    private final UserPrincipal owner;
    private final TokenGate gate;
    private final RateLimitedLog log;
    private final String busyLine;
    private final Map<SocketChannel, PendingConnection> pending = new LinkedHashMap<>();
    private final Map<String, Integer> perSource = new java.util.HashMap<>();
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);
    private final List<PendingConnection> ready = new ArrayList<>();
    private final Thread thread;
    private long pendingBytes;
    private long order;
    private long backoff;
    private long acceptAgainAt;
    private volatile java.util.function.Consumer<String> refusals = line -> {
    };

    /**
     * @param limits the bounds
     * @param workers serves complete requests
     * @param owner the only user admitted on Unix sockets
     * @param gate checks TCP tokens; null without TCP
     * @param log where refusals are logged
     * @param busyLine the line a client gets when the coordinator is too busy for it
     * @throws IOException if no selector can be opened
     */
    ConnectionHub(HubLimits limits, Workers workers, UserPrincipal owner, TokenGate gate, RateLimitedLog log,
            String busyLine) throws IOException {
        this.selector = Selector.open();
        this.limits = limits;
        this.workers = workers;
        this.owner = owner;
        this.gate = gate;
        this.log = log;
        this.busyLine = busyLine;
        this.thread = new Thread(this::loop, "stasis-control-hub");
        thread.setDaemon(true);
    }

    /**
     * @param server a bound listening socket; the hub owns it from now on
     * @param tcp whether its connections must present the token
     * @throws IOException if it cannot be registered
     */
    void listen(ServerSocketChannel server, boolean tcp) throws IOException {
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT, new Listener(server, tcp));
        servers.add(server);
    }

    /** @param listener hears each refused token line that the log printed (the event log's warning) */
    void onRefusedToken(java.util.function.Consumer<String> listener) {
        this.refusals = listener;
    }

    void start() {
        thread.start();
    }

    /** Takes no new connection from now on: closes the listening sockets; the connections taken carry on. */
    void closeListeners() {
        for (ServerSocketChannel server : servers) {
            try {
                server.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        selector.wakeup();
    }

    @Override
    public void close() throws IOException {
        for (SelectionKey key : selector.keys()) {
            key.channel().close();
        }
        selector.close();
        workers.close();
    }

    /** @return connections whose request has not fully arrived; for tests */
    synchronized int pendingCount() {
        return pending.size();
    }

    private void loop() {
        try {
            while (selector.isOpen()) {
                try {
                    round();
                } catch (ClosedSelectorException e) {
                    return; // closed: the coordinator is stopping
                } catch (RuntimeException e) {
                    log.log("hub", "stasis: control socket: " + e + " (the control socket carries on)");
                    ready.clear();
                }
            }
        } catch (IOException e) {
            // the selector failed: the coordinator is stopping
        }
    }

    private void round() throws IOException {
        selector.select(Math.max(1, wakeIn(System.currentTimeMillis())));
        long now = System.currentTimeMillis();
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
            SelectionKey key = keys.next();
            keys.remove();
            if (key.isValid() && key.isAcceptable()) {
                accept(key, now);
            } else if (key.isValid() && key.isReadable()) {
                read((PendingConnection) key.attachment(), now);
            }
        }
        expire(now);
        handOff();
    }

    private long wakeIn(long now) {
        long next = acceptAgainAt > 0 ? acceptAgainAt : now + 1_000;
        for (PendingConnection connection : pending.values()) {
            next = Math.min(next, connection.delayedUntil > 0 ? connection.delayedUntil : connection.idleDeadline);
        }
        return Math.min(1_000, next - now);
    }

    private void accept(SelectionKey key, long now) {
        Listener listener = (Listener) key.attachment();
        for (int i = 0; i < 64; i++) {
            SocketChannel channel;
            try {
                channel = listener.server().accept();
            } catch (IOException e) {
                backOff(key, now, e);
                return;
            }
            if (channel == null) {
                backoff = 0;
                return;
            }
            admit(channel, listener.tcp(), now);
        }
    }

    // Out of descriptors (or another accept error): stop accepting for a while, free the oldest pending.
    private void backOff(SelectionKey key, long now, IOException e) {
        backoff = Math.min(MAX_BACKOFF_MS, Math.max(10, backoff * 2));
        acceptAgainAt = now + backoff;
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof Listener && k.isValid()) {
                k.interestOps(0);
            }
        }
        log.log("accept", "stasis: control socket: cannot accept (" + e.getMessage() + "); pausing "
                + backoff + " ms and dropping the oldest waiting connection");
        pending.values().stream().findFirst().ifPresent(oldest -> drop(oldest, true));
    }

    private void admit(SocketChannel channel, boolean tcp, long now) {
        String source;
        try {
            channel.configureBlocking(false);
            source = tcp ? ((InetSocketAddress) channel.getRemoteAddress()).getAddress().getHostAddress() : LOCAL;
            if (!tcp) {
                UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
                if (!peer.user().equals(owner)) {
                    log.log("user", "stasis: refused a control connection from user " + peer.user().getName());
                    channel.close();
                    return;
                }
            }
        } catch (IOException e) {
            closeQuietly(channel);
            return;
        }
        makeRoom(source);
        PendingConnection connection = new PendingConnection(channel, source, tcp, order++, now);
        connection.idleDeadline = now + limits.idleMillis();
        try {
            channel.register(selector, SelectionKey.OP_READ, connection);
        } catch (IOException e) {
            closeQuietly(channel);
            return;
        }
        synchronized (this) {
            pending.put(channel, connection);
        }
        perSource.merge(source, 1, Integer::sum);
        pendingBytes += connection.buffered();
    }

    // The oldest connection of a crowded source, or the oldest of all, makes room for a new one.
    private void makeRoom(String source) {
        if (perSource.getOrDefault(source, 0) >= limits.perSource()) {
            pending.values().stream().filter(c -> c.source.equals(source)).findFirst()
                    .ifPresent(c -> drop(c, true));
            log.log("crowded", "stasis: control connections from " + source + " are over the limit of "
                    + limits.perSource() + " waiting at once; dropping the oldest");
        }
        if (pending.size() >= limits.maxPending()) {
            pending.values().stream().findFirst().ifPresent(c -> drop(c, true));
            log.log("crowded-all", "stasis: over " + limits.maxPending()
                    + " control connections waiting at once; dropping the oldest");
        }
    }

    private void read(PendingConnection connection, long now) {
        scratch.clear();
        int n;
        try {
            n = connection.channel.read(scratch);
        } catch (IOException e) {
            n = -1;
        }
        if (n < 0) {
            drop(connection, false); // gone before its request was complete: nothing runs
            return;
        }
        scratch.flip();
        pendingBytes -= connection.buffered();
        connection.append(scratch);
        pendingBytes += connection.buffered();
        connection.idleDeadline = now + limits.idleMillis();
        if (pendingBytes > limits.pendingBytes()) {
            log.log("bytes", "stasis: control requests hold over " + limits.pendingBytes() + " bytes; dropping one");
            drop(connection, true);
            return;
        }
        advance(connection, now);
    }

    private void advance(PendingConnection connection, long now) {
        PendingConnection.Step step;
        try {
            step = connection.parse();
            if (step == PendingConnection.Step.TOKEN) {
                step = checkToken(connection, now);
            }
        } catch (IllegalArgumentException e) {
            log.log("protocol", refusedLine(connection) + e.getMessage());
            drop(connection, false);
            return;
        }
        if (step == PendingConnection.Step.COMPLETE) {
            ready.add(connection);
        }
    }

    // A right token is admitted at once; a wrong one is answered (closed) only after its source's penalty delay.
    private PendingConnection.Step checkToken(PendingConnection connection, long now) {
        TokenGate.Verdict verdict = gate.check(connection.source, connection.tokenLine(), now);
        if (verdict != TokenGate.Verdict.ADMITTED) {
            String line = refusedLine(connection) + (verdict == TokenGate.Verdict.WRONG ? "wrong token" : "missing token");
            if (log.log("token-" + verdict, line)) {
                refusals.accept(line);
            }
            connection.delayedUntil = gate.notBefore(connection.source, now);
            connection.channel.keyFor(selector).interestOps(0);
            return PendingConnection.Step.MORE;
        }
        connection.tokenAccepted();
        return connection.parse();
    }

    private void expire(long now) {
        if (acceptAgainAt > 0 && now >= acceptAgainAt) {
            acceptAgainAt = 0;
            for (SelectionKey k : selector.keys()) {
                if (k.attachment() instanceof Listener && k.isValid()) {
                    k.interestOps(SelectionKey.OP_ACCEPT);
                }
            }
        }
        for (PendingConnection connection : List.copyOf(pending.values())) {
            if (!pending.containsKey(connection.channel) || ready.contains(connection)) {
                continue;
            }
            if (connection.delayedUntil > 0) {
                if (now >= connection.delayedUntil) {
                    drop(connection, false); // the refused token's answer: the connection closes
                }
            } else if (now >= connection.idleDeadline || now - connection.started >= limits.requestMillis()) {
                log.log("idle", refusedLine(connection) + "no complete request within "
                        + (now >= connection.idleDeadline ? limits.idleMillis() / 1000 + " s of silence"
                                : limits.requestMillis() / 1000 + " s"));
                drop(connection, false);
            }
        }
    }

    private void handOff() throws IOException {
        if (ready.isEmpty()) {
            return;
        }
        ready.removeIf(connection -> !isPending(connection)); // dropped since (made room for another)
        for (PendingConnection connection : ready) {
            SelectionKey key = connection.channel.keyFor(selector);
            if (key != null) {
                key.cancel();
            }
            forget(connection);
        }
        selector.selectNow(); // deregisters the cancelled keys, so the channels may block again
        for (PendingConnection connection : ready) {
            try {
                connection.channel.configureBlocking(true);
            } catch (IOException e) {
                closeQuietly(connection.channel);
                continue;
            }
            if (!workers.submit(connection.request())) {
                log.log("busy", "stasis: all " + limits.workers() + " control workers are busy; told a client so");
                answerBusy(connection.channel);
            }
        }
        ready.clear();
    }

    private static String refusedLine(PendingConnection connection) {
        return connection.source.equals(LOCAL) ? "stasis: closed a control connection: "
                : "stasis: refused a TCP control connection from /" + connection.source + ": ";
    }

    private void drop(PendingConnection connection, boolean tellBusy) {
        forget(connection);
        if (tellBusy) {
            answerBusy(connection.channel);
        } else {
            closeQuietly(connection.channel);
        }
    }

    private synchronized boolean isPending(PendingConnection connection) {
        return pending.get(connection.channel) == connection;
    }

    private void forget(PendingConnection connection) {
        synchronized (this) {
            if (pending.remove(connection.channel) == null) {
                return;
            }
        }
        perSource.computeIfPresent(connection.source, (k, v) -> v <= 1 ? null : v - 1);
        pendingBytes -= connection.buffered();
    }

    // One E frame with the busy line and X 1: the client prints it as it is, whatever it sent.
    private void answerBusy(SocketChannel channel) {
        byte[] text = (busyLine + "\n").getBytes(StandardCharsets.UTF_8);
        String frames = "E " + text.length + "\n" + busyLine + "\nX 1\n1";
        try {
            if (channel.isBlocking()) {
                channel.configureBlocking(false);
            }
            channel.write(ByteBuffer.wrap(frames.getBytes(StandardCharsets.UTF_8)));
            channel.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            // it is gone already
        }
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do
        }
    }
}
