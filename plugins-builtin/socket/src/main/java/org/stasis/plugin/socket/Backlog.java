package org.stasis.plugin.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.stasis.api.ProcessAccess;

/**
 * Clients of the computation that wait in a listener's accept queue with bytes they
 * already sent: those bytes sit in a connection nobody accepted, and only accept()
 * reaches them. At checkpoint the coordinator accepts these connections from its
 * duplicate of the listener (in queue order), takes the bytes (TCP: with the cookie,
 * so nothing still on its way is missed) and lets the connection go (TCP: with a
 * reset, so no TIME_WAIT keeps the client's port). At resume each client is connected
 * again to the listener, bound to its old address, sends its bytes again, and takes the
 * old client's place at every descriptor that held it; it waits in the queue again, in
 * the same order. A restart does the same with the saved bytes.
 *
 * <p>Only listeners whose whole queue is clients of the computation are handled (a
 * connection from outside could not be put back), and only clients that can be
 * connected again as they were: unnamed Unix stream or seqpacket clients, TCP clients,
 * none of them shut.
 */
final class Backlog {
    private static final int TCPI_UNACKED = 24;
    private static final int TCP_INFO_SIZE = 104;
    private static final int CHUNK = 1 << 16;

    private final Sockets sockets;
    private final CookieDrain cookies;
    private final Consumer<String> log;

    Backlog(Sockets sockets, CookieDrain cookies, Consumer<String> log) {
        this.sockets = sockets;
        this.cookies = cookies;
        this.log = log;
    }

    // ---------------------------------------------------------------- checkpoint

    /** Takes the waiting clients' connections out of the listeners' queues, keeping their bytes. */
    void take(Snapshot into, Map<Long, Integer> dups) throws IOException {
        for (SocketDescription listener : into.sockets.values()) {
            if (!listener.listening() || !listener.supported()) {
                continue;
            }
            List<SocketDescription> clients = clientsOf(into, listener);
            if (!clients.isEmpty() && wholeQueue(into, listener, clients, dups.get(listener.inode()))) {
                takeFrom(into, listener, clients, dups);
            }
        }
    }

    private static List<SocketDescription> clientsOf(Snapshot snapshot, SocketDescription listener) {
        List<SocketDescription> clients = new ArrayList<>();
        if (listener.isUnix()) {
            for (long inode : listener.waiting()) { // in queue order
                SocketDescription client = snapshot.sockets.get(inode);
                if (client != null) {
                    clients.add(client);
                }
            }
            return clients;
        }
        for (SocketDescription s : snapshot.sockets.values()) {
            Link link = snapshot.links.getOrDefault(s.inode(), Link.ALONE);
            if (link.kind() == Link.Kind.WAITING && link.other() == listener.inode()) {
                clients.add(s);
            }
        }
        return clients;
    }

    private boolean wholeQueue(Snapshot snapshot, SocketDescription listener, List<SocketDescription> clients,
            int listenerFd) throws IOException {
        for (SocketDescription c : clients) {
            if (c.shutdown() != 0 || c.isUnix() && !c.local().isUnnamed()) {
                return false;
            }
        }
        if (listener.isUnix()) {
            UnixPlace place = snapshot.places.get(listener.inode());
            return listener.waiting().length == clients.size() && (place == null || place.fileMode() != UnixPlace.ABSENT);
        }
        ByteBuffer info = ByteBuffer.wrap(sockets.option(listenerFd, Net.IPPROTO_TCP, Net.TCP_INFO, TCP_INFO_SIZE))
                .order(ByteOrder.nativeOrder());
        return info.getInt(TCPI_UNACKED) == clients.size(); // a listener's tcpi_unacked is its queue's length
    }

    private void takeFrom(Snapshot into, SocketDescription listener, List<SocketDescription> clients,
            Map<Long, Integer> dups) throws IOException {
        int listenerFd = dups.get(listener.inode());
        for (int order = 0; order < clients.size(); order++) {
            int[] ready = sockets.poll(new int[] {listenerFd}, new int[] {Net.POLLIN}, 0);
            if ((ready[0] & Net.POLLIN) == 0) {
                return;
            }
            int server = sockets.accept(listenerFd);
            try {
                SocketDescription client = listener.isUnix() ? clients.get(order) : match(clients, server);
                if (client == null) {
                    log.accept(listener.describe() + ": a connection from outside the computation came in during the"
                            + " checkpoint; it was reset");
                    reset(server);
                    continue;
                }
                byte[] data = bytesFrom(client, dups.get(client.inode()), server);
                into.unaccepted.put(client.inode(), new Snapshot.Unaccepted(client.inode(), listener.inode(),
                        into.unaccepted.size(), data));
                if (client.isTcp()) {
                    sockets.setIntOption(dups.get(client.inode()), Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
                    reset(server);
                }
            } finally {
                sockets.close(server);
            }
        }
    }

    private SocketDescription match(List<SocketDescription> clients, int server) throws IOException {
        String peer = sockets.peerAddress(server).key();
        return clients.stream().filter(c -> c.local().key().equals(peer)).findFirst().orElse(null);
    }

    private byte[] bytesFrom(SocketDescription client, int clientFd, int server) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        if (client.isTcp()) {
            cookies.drain(clientFd, server, data, client.describe());
            return data.toByteArray();
        }
        byte[] chunk = new byte[CHUNK];
        int n;
        while ((n = sockets.receive(server, chunk, 0, null, null)) > 0) {
            data.write(chunk, 0, n);
        }
        return data.toByteArray();
    }

    private void reset(int fd) throws IOException {
        SocketOption.LINGER.write(sockets, fd, new long[] {1, 0});
    }

    // ---------------------------------------------------------------- resume and restart

    /**
     * Connects a new client to the listener as the old one was, and sends its bytes.
     *
     * @param client the old client
     * @param listenerAddress where the listener is now
     * @param binder for the client's old address (TCP)
     * @param data what it had sent
     * @param filler sends the bytes
     * @return the new client's descriptor (the caller owns it)
     */
    int reconnect(SocketDescription client, Address listenerAddress, byte[] data, Filler filler) throws IOException {
        int fd = sockets.socket(client.family(), client.type(), client.protocol());
        try {
            for (Map.Entry<SocketOption, long[]> option : client.options().entrySet()) {
                option.getKey().write(sockets, fd, option.getValue());
            }
            if (client.isTcp()) {
                bindTcpClient(fd, client);
            }
            sockets.connect(fd, listenerAddress);
            long lost = data.length == 0 ? 0 : filler.stream(fd, data, -1);
            if (lost > 0) {
                log.accept(client.describe() + ": " + lost + " of the " + data.length
                        + " bytes it had sent into its unaccepted connection could not be sent again");
            }
            return fd;
        } catch (IOException e) {
            sockets.close(fd);
            throw e;
        }
    }

    private void bindTcpClient(int fd, SocketDescription client) throws IOException {
        sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
        try {
            sockets.bind(fd, client.local());
        } catch (SyscallException e) {
            log.accept(client.describe() + ": its old address is taken; it connects from a new port");
        } finally {
            long[] reuse = client.options().get(SocketOption.REUSEADDR);
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, reuse == null ? 0 : (int) reuse[0]);
        }
    }

    /** After a checkpoint: every client taken out of a queue comes back, in queue order, at its descriptors. */
    void giveBack(Snapshot snapshot, ProcessAccess processes, Filler filler) throws IOException {
        List<Snapshot.Unaccepted> all = new ArrayList<>(snapshot.unaccepted.values());
        all.sort((a, b) -> Integer.compare(a.order(), b.order()));
        IOException failure = null;
        for (Snapshot.Unaccepted waiting : all) {
            SocketDescription client = snapshot.sockets.get(waiting.client());
            SocketDescription listener = snapshot.sockets.get(waiting.listener());
            try {
                Address to = listener.isUnix() ? listener.local() : listener.local().reachableFrom(client.family());
                int fd = reconnect(client, to, waiting.data(), filler);
                try {
                    for (Holder holder : snapshot.holders.get(client.inode())) {
                        processes.install(holder.pid(), holder.fd(), fd, holder.flags());
                    }
                } finally {
                    sockets.close(fd);
                }
            } catch (IOException e) {
                log.accept(client.describe() + ": could not be connected again to " + listener.describe()
                        + " after the checkpoint: " + e.getMessage());
                failure = failure == null ? e : failure;
            }
        }
        for (Snapshot.Watch watch : snapshot.watches) {
            processes.epollAdd(watch.pid(), watch.epfd(), watch.fd(), watch.events(), watch.data());
        }
        if (failure != null) {
            throw failure;
        }
    }
}
