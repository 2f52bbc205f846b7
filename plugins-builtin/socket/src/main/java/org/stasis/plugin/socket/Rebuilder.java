package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The restart side: recreates a checkpoint's sockets in the coordinator's process,
 * connected to each other as they were, puts back what waited in their queues, and
 * hands back one descriptor per socket for the core to pass to the restored processes.
 *
 * <p>Order matters: listeners first (pairs and waiting clients connect through
 * them), then sockets on their own (datagram receivers others connect or send to),
 * pairs, waiting clients, one-way datagram connections, and sockets whose peer was
 * outside the computation. Only then are queues refilled and shutdowns applied
 * ({@link Refiller}).
 */
final class Rebuilder {
    private static final int ACCEPT_MILLIS = 5000;

    private final Sockets sockets;
    private final Snapshot snapshot;
    private final Consumer<String> log;
    private final Binder binder;
    private final Filler filler;
    private final Made made = new Made();
    private final String part;
    private final Exchange exchange;

    /**
     * @param sockets the system calls
     * @param snapshot what the checkpoint holds
     * @param log where to report what could not be restored as it was
     * @param rewrite the restart's path rewrites (for Unix socket paths)
     * @param patience how long a refill may stall before the rest is given up
     * @param limits how far socket buffers may be enlarged for a refill
     */
    Rebuilder(Sockets sockets, Snapshot snapshot, Consumer<String> log, UnaryOperator<String> rewrite,
            Duration patience, Limits limits) {
        this(sockets, snapshot, log, rewrite, patience, limits, "local", (topic, mine) -> Map.of("local", mine));
    }

    /**
     * @param part this part's name (a computation that spans hosts has one part per host)
     * @param exchange how to reach the other parts (connections between parts are joined through it)
     */
    Rebuilder(Sockets sockets, Snapshot snapshot, Consumer<String> log, UnaryOperator<String> rewrite,
            Duration patience, Limits limits, String part, Exchange exchange) {
        this.part = part;
        this.exchange = exchange;
        this.sockets = sockets;
        this.snapshot = snapshot;
        this.log = log;
        this.binder = new Binder(sockets, log, rewrite, new Lingering(sockets, Path.of("/proc/net")),
                snapshot.places::get, !"local".equals(part));
        this.filler = new Filler(sockets, patience, limits);
    }

    /**
     * @return a new descriptor per socket, by inode; the caller owns them
     * @throws IOException if a socket cannot be recreated (everything made so far is closed)
     */
    Map<Long, Integer> rebuild() throws IOException {
        try {
            List<SocketDescription> ordered = new ArrayList<>(snapshot.sockets.values());
            ordered.sort(Comparator.comparingInt(this::rank).thenComparingInt(this::queueOrder)
                    .thenComparingLong(SocketDescription::inode));
            boolean rejoined = false;
            for (SocketDescription socket : ordered) {
                if (rank(socket) >= 2 && !rejoined) { // after the listeners, before the clients waiting in them
                    new Rejoiner(this, sockets, snapshot, made, filler, log, part, exchange).rejoin();
                    rejoined = true;
                }
                if (!made.sockets.containsKey(socket.inode())) { // the other end of a pair may have made it
                    make(socket);
                }
            }
            if (!rejoined) {
                new Rejoiner(this, sockets, snapshot, made, filler, log, part, exchange).rejoin();
            }
            Refiller refiller = new Refiller(sockets, snapshot, made, binder, filler, log);
            refiller.refill();
            refiller.applyShutdowns();
            refiller.closeStandIns();
            binder.removeFilesTheProgramRemoved();
            return new LinkedHashMap<>(made.sockets);
        } catch (IOException | RuntimeException e) {
            made.closeAll(sockets);
            throw e;
        } finally {
            made.closeTemporary(sockets);
        }
    }

    // Listeners before what connects to them, named receivers before what sends to them.
    private int rank(SocketDescription socket) {
        return switch (link(socket).kind()) {
            case ALONE -> socket.listening() ? 0 : 1;
            case PAIR, BETWEEN -> 2;
            case WAITING -> 3;
            case TO -> 4;
            case OUTSIDE -> 5;
        };
    }

    // Clients waiting in a listener connect again in their old queue order.
    private int queueOrder(SocketDescription socket) {
        Snapshot.Unaccepted waiting = snapshot.unaccepted.get(socket.inode());
        return waiting == null ? Integer.MAX_VALUE : waiting.order();
    }

    private Link link(SocketDescription socket) {
        return snapshot.links.getOrDefault(socket.inode(), Link.ALONE);
    }

    private void make(SocketDescription socket) throws IOException {
        Link link = link(socket);
        switch (link.kind()) {
            case ALONE -> alone(socket);
            case PAIR -> pair(socket, snapshot.sockets.get(link.other()), link.listener());
            case WAITING -> waiting(socket, snapshot.sockets.get(link.other()));
            case TO -> to(socket, snapshot.sockets.get(link.other()));
            case OUTSIDE -> outside(socket);
            case BETWEEN -> throw new IllegalStateException(socket.describe() + " was not joined to its other part");
        }
    }

    // ---------------------------------------------------------------- creation

    /** A new socket of the saved kind with the saved options. */
    int create(SocketDescription socket) throws IOException {
        int fd = sockets.socket(socket.family(), socket.type(), socket.protocol());
        try {
            applyOptions(fd, socket);
        } catch (IOException e) {
            sockets.close(fd);
            throw e;
        }
        return fd;
    }

    private void applyOptions(int fd, SocketDescription socket) throws IOException {
        applyOptions(fd, socket, false);
    }

    /** @param accepted whether the socket came from accept (it has the listener's binding options already) */
    void applyOptions(int fd, SocketDescription socket, boolean accepted) throws IOException {
        for (Map.Entry<SocketOption, long[]> option : socket.options().entrySet()) {
            if (accepted && option.getKey().beforeBind()) {
                continue;
            }
            try {
                option.getKey().write(sockets, fd, option.getValue());
            } catch (SyscallException e) {
                log.accept(socket.describe() + ": option " + option.getKey().key() + " could not be set back: "
                        + e.getMessage());
            }
        }
    }

    private void alone(SocketDescription socket) throws IOException {
        int fd = create(socket);
        made.sockets.put(socket.inode(), fd);
        if (!socket.supported()) {
            log.accept(socket.describe() + ": this kind of socket is not restored; the program gets a new one");
            return;
        }
        if (socket.local().isUnnamed()) {
            return;
        }
        if (socket.isUnix()) {
            binder.bindUnix(fd, socket, socket.local());
        } else {
            binder.bindIp(fd, socket, socket.local(), socket.listening());
        }
        if (socket.listening()) {
            listen(fd, socket);
        } else if (socket.isUdp() && !socket.peer().equals(Address.NONE)) {
            try {
                sockets.connect(fd, socket.peer());
            } catch (SyscallException e) {
                log.accept(socket.describe() + ": cannot be connected to " + socket.peer() + " again ("
                        + e.getMessage() + "); it is left unconnected");
            }
        }
    }

    private void listen(int fd, SocketDescription socket) throws IOException {
        int backlog = socket.backlog() > 0 ? socket.backlog() : Net.SOMAXCONN;
        if (socket.isUnix()) {
            sockets.listen(fd, backlog);
        } else {
            made.sockets.put(socket.inode(), binder.listenIp(fd, socket, backlog, () -> create(socket)));
        }
    }

    private void pair(SocketDescription a, SocketDescription b, long listenerInode) throws IOException {
        if (a.isTcp()) {
            tcpPair(a, b, listenerInode);
        } else if (listenerInode != 0 && a.type() != Net.SOCK_DGRAM) {
            SocketDescription listener = snapshot.sockets.get(listenerInode);
            SocketDescription server = a.local().key().equals(listener.local().key()) ? a : b;
            SocketDescription client = server == a ? b : a;
            int clientFd = create(client);
            made.sockets.put(client.inode(), clientFd);
            sockets.connect(clientFd, binder.unixName(listener.local()));
            made.sockets.put(server.inode(), acceptFrom(made.sockets.get(listenerInode), server));
        } else if (a.type() == Net.SOCK_DGRAM && !a.local().isUnnamed() && !b.local().isUnnamed()) {
            // Two named datagram sockets connected to each other keep their names.
            int fa = create(a);
            made.sockets.put(a.inode(), fa);
            int fb = create(b);
            made.sockets.put(b.inode(), fb);
            binder.bindUnix(fa, a, a.local());
            binder.bindUnix(fb, b, b.local());
            sockets.connect(fa, binder.unixName(b.local()));
            sockets.connect(fb, binder.unixName(a.local()));
        } else {
            int[] ends = sockets.pair(a.type());
            made.sockets.put(a.inode(), ends[0]);
            made.sockets.put(b.inode(), ends[1]);
            applyOptions(ends[0], a);
            applyOptions(ends[1], b);
        }
    }

    private void tcpPair(SocketDescription a, SocketDescription b, long listenerInode) throws IOException {
        SocketDescription server;
        int listenerFd;
        if (listenerInode != 0) {
            server = snapshot.sockets.get(listenerInode).takes(a.local()) ? a : b;
            listenerFd = made.sockets.get(listenerInode);
        } else {
            // Without the program's listener either end may play server: the lower port, usually the service.
            server = a.local().port() <= b.local().port() ? a : b;
            listenerFd = sockets.socket(server.family(), Net.SOCK_STREAM, server.protocol());
            made.temporary.add(listenerFd);
            long[] v6only = server.options().get(SocketOption.V6ONLY);
            if (v6only != null) {
                SocketOption.V6ONLY.write(sockets, listenerFd, v6only);
            }
            binder.bindIp(listenerFd, server, server.local(), false);
            sockets.listen(listenerFd, 1);
        }
        SocketDescription client = server == a ? b : a;
        Address listening = sockets.localAddress(listenerFd);
        made.sockets.put(client.inode(), connectClient(client, targetOf(client, listening)));
        made.sockets.put(server.inode(), acceptFrom(listenerFd, server));
    }

    /*
     * Where the client reaches the listener now: the address it had reached, on the
     * listener's port now, while that still leads there; else (the part moved to a host
     * without that address, or the listener moved) where the listener is reachable.
     */
    private Address targetOf(SocketDescription client, Address listening) throws IOException {
        Address target = client.peer().withPort(listening.port());
        return listening.accepts(target) && binder.isHere(target) ? target : listening.reachableFrom(client.family());
    }

    /** A TCP client bound to its old address if it is free, connected to {@code target}. */
    private int connectClient(SocketDescription client, Address target) throws IOException {
        int fd = create(client);
        try {
            binder.bindIp(fd, client, client.local(), false);
            sockets.connect(fd, target);
            return fd;
        } catch (SyscallException e) {
            sockets.close(fd);
            if (e.errno() != Net.EADDRNOTAVAIL && e.errno() != Net.EADDRINUSE) {
                throw e;
            }
        }
        // The old four-tuple is still taken (e.g. in TIME_WAIT): let the kernel pick a port.
        log.accept(client.describe() + ": its old address " + client.local() + " is still in use; it gets a new port");
        fd = create(client);
        try {
            sockets.connect(fd, target);
            return fd;
        } catch (IOException e) {
            sockets.close(fd);
            throw e;
        }
    }

    private int acceptFrom(int listenerFd, SocketDescription server) throws IOException {
        int[] ready = sockets.poll(new int[] {listenerFd}, new int[] {Net.POLLIN}, ACCEPT_MILLIS);
        if ((ready[0] & Net.POLLIN) == 0) {
            throw new IOException(server.describe() + ": the connection to recreate it did not arrive at its listener");
        }
        int fd = sockets.accept(listenerFd);
        applyOptions(fd, server, true);
        return fd;
    }

    private void waiting(SocketDescription client, SocketDescription listener) throws IOException {
        int fd;
        if (client.isUnix()) {
            fd = create(client);
            made.sockets.put(client.inode(), fd);
            sockets.connect(fd, binder.unixName(listener.local()));
        } else {
            Address listening = sockets.localAddress(made.sockets.get(listener.inode()));
            fd = connectClient(client, targetOf(client, listening));
            made.sockets.put(client.inode(), fd);
        }
        Snapshot.Unaccepted sent = snapshot.unaccepted.get(client.inode());
        if (sent == null) {
            log.accept(client.describe() + ": was waiting to be accepted; it waits again, but the data it had sent "
                    + "before the checkpoint is not restored");
        } else if (sent.data().length > 0) {
            long lost = filler.stream(fd, sent.data(), -1);
            if (lost > 0) {
                log.accept(client.describe() + ": " + lost + " of the " + sent.data().length
                        + " bytes it had sent into its unaccepted connection could not be sent again");
            }
        }
    }

    private void to(SocketDescription sender, SocketDescription target) throws IOException {
        int fd = create(sender);
        made.sockets.put(sender.inode(), fd);
        if (!sender.local().isUnnamed()) {
            binder.bindUnix(fd, sender, sender.local());
        }
        sockets.connect(fd, binder.unixName(target.local()));
    }

    void outside(SocketDescription socket) throws IOException {
        if (socket.isTcp()) {
            tcpStandIn(socket);
            return;
        }
        if (socket.type() == Net.SOCK_DGRAM && !socket.peer().isUnnamed() && reconnectDatagram(socket)) {
            return;
        }
        int[] ends = sockets.pair(socket.type());
        made.sockets.put(socket.inode(), ends[0]);
        applyOptions(ends[0], socket);
        made.standIns.put(socket.inode(), new Made.StandIn(ends[1], false, false));
        log.accept(socket.describe() + ": its peer " + socket.peer() + " was outside the computation"
                + (socket.peerInode() == 0 ? " (or already gone)" : "") + "; the program finds the connection closed");
    }

    // A datagram socket talks to a name, not a connection: it is simply connected to that name again.
    private boolean reconnectDatagram(SocketDescription socket) throws IOException {
        int fd = create(socket);
        try {
            if (!socket.local().isUnnamed()) {
                binder.bindUnix(fd, socket, socket.local());
            }
            sockets.connect(fd, binder.unixName(socket.peer()));
            made.sockets.put(socket.inode(), fd);
            return true;
        } catch (SyscallException e) {
            sockets.close(fd);
            log.accept(socket.describe() + ": cannot reach " + socket.peer() + " again (" + e.getMessage()
                    + "); the program finds the connection refused");
            return false;
        }
    }

    // The program gets a connection whose other end goes away as a failed network would take it.
    private void tcpStandIn(SocketDescription socket) throws IOException {
        int listenerFd = sockets.socket(socket.family(), Net.SOCK_STREAM, socket.protocol());
        made.temporary.add(listenerFd);
        sockets.bind(listenerFd, Address.loopback(socket.family(), 0));
        sockets.listen(listenerFd, 1);
        int fd = create(socket);
        made.sockets.put(socket.inode(), fd);
        sockets.connect(fd, sockets.localAddress(listenerFd));
        int other = sockets.accept(listenerFd);
        boolean peerClosed = (socket.shutdown() & Net.RCV_SHUTDOWN) != 0;
        made.standIns.put(socket.inode(), new Made.StandIn(other, true, !peerClosed));
        log.accept(socket.describe() + ": its peer " + socket.peer() + " is outside the computation; "
                + (peerClosed ? "it had closed the connection, and the program finds it closed"
                        : "the program finds the connection reset"));
    }
}
