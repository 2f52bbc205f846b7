package org.stasis.plugin.socket;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Connects the ends of connections between parts again at restart, wherever the parts
 * run now (one host or several). Every part takes part in two exchanges, also without
 * such connections. First ({@value #LISTEN}): the end that listens (decided at
 * checkpoint, alike on both sides) listens, through the program's own listener if it
 * has one, else on a new listener bound to its old address if it can, else to any
 * address of its host, and gives where it listens; each end also gives the bytes its
 * queue held, which the other end sends again. Then the other end connects, bound to
 * its old address if it can, and gives the address it connected from ({@value #CONNECTED}),
 * by which the listening end picks its connection out of the accept queue.
 * An end whose other part does not answer comes back as one whose peer was outside.
 */
final class Rejoiner {
    static final String LISTEN = "tcp-listen";
    static final String CONNECTED = "tcp-connected";
    private static final int ACCEPT_MILLIS = 5000;
    private static final long CONNECT_SECONDS = 5;

    private final Rebuilder rebuilder;
    private final Sockets sockets;
    private final Snapshot snapshot;
    private final Made made;
    private final Filler filler;
    private final Consumer<String> log;
    private final String part;
    private final Exchange exchange;
    /** The listening descriptor of each end that listens, by inode. */
    private final Map<Long, List<Integer>> listening = new LinkedHashMap<>();
    /** Connections accepted for another end than the one being looked for, by listening descriptor. */
    private final Map<Integer, List<Integer>> early = new LinkedHashMap<>();

    Rejoiner(Rebuilder rebuilder, Sockets sockets, Snapshot snapshot, Made made, Filler filler, Consumer<String> log,
            String part, Exchange exchange) {
        this.rebuilder = rebuilder;
        this.sockets = sockets;
        this.snapshot = snapshot;
        this.made = made;
        this.filler = filler;
        this.log = log;
        this.part = part;
        this.exchange = exchange;
    }

    /** Connects every end between parts again and sends what the other ends' queues held. */
    void rejoin() throws IOException {
        List<SocketDescription> ends = snapshot.sockets.values().stream()
                .filter(s -> snapshot.links.getOrDefault(s.inode(), Link.ALONE).kind() == Link.Kind.BETWEEN).toList();
        try {
            Parcels first = new Parcels();
            for (SocketDescription end : ends) {
                Snapshot.Between other = snapshot.between.get(end.inode());
                if (other.server()) {
                    first.add("listen", other.part(), other.inode(), where(end));
                }
                Queued queued = snapshot.queues.get(end.inode());
                if (queued != null && !queued.isEmpty()) {
                    first.add("data", other.part(), other.inode(), Base64.getEncoder().encodeToString(queued.bytes()));
                }
            }
            for (Map.Entry<Long, List<Snapshot.Waiter>> listener : snapshot.waiters.entrySet()) {
                Integer fd = made.sockets.get(listener.getKey());
                if (fd != null) {
                    String where = where(fd, snapshot.sockets.get(listener.getKey()).local());
                    listener.getValue().forEach(w -> first.add("listen", w.part(), w.inode(), where));
                }
            }
            Map<String, byte[]> answers = Rounds.exchange(exchange, LISTEN, first.encode());
            Map<Long, Parcels.Parcel> listens = Parcels.forMe(answers, part, "listen");
            Parcels second = new Parcels();
            for (SocketDescription end : ends) {
                Snapshot.Between other = snapshot.between.get(end.inode());
                if (!other.server()) {
                    connect(end, other, from(listens, end, other), second);
                }
            }
            Map<Long, Parcels.Parcel> connected = Parcels.forMe(exchange.exchange(CONNECTED, second.encode()), part,
                    "connected");
            for (SocketDescription end : ends) {
                Snapshot.Between other = snapshot.between.get(end.inode());
                if (other.server()) {
                    accept(end, other, from(connected, end, other));
                }
            }
            sendAgain(ends, Parcels.forMe(answers, part, "data"));
        } finally {
            early.values().forEach(list -> list.forEach(sockets::close));
        }
    }

    private static Parcels.Parcel from(Map<Long, Parcels.Parcel> parcels, SocketDescription end, Snapshot.Between other) {
        Parcels.Parcel parcel = parcels.get(end.inode());
        return parcel != null && parcel.part().equals(other.part()) ? parcel : null;
    }

    // ------------------------------------------------------------- listening end

    /**
     * @return where the other end connects: this host's identity, then addresses to try in
     *         order (the other end says which it reached: each has its listener here)
     */
    /** @return where a client of another part that waited in this part's listener connects again */
    private String where(int listener, Address old) throws IOException {
        StringBuilder text = new StringBuilder(stack());
        offer(listener, new ArrayList<>(), text, old);
        return text.toString();
    }

    private String where(SocketDescription end) throws IOException {
        List<Integer> fds = new ArrayList<>();
        listening.put(end.inode(), fds);
        StringBuilder text = new StringBuilder(stack());
        int fd = listenerFor(end);
        Address at = offer(fd, fds, text, end.local());
        if (at.isLoopback()) {
            // The program's listener is on loopback: another host reaches this end through a listener of its own.
            offer(ownListener(end), fds, text, null);
        }
        return text.toString();
    }

    /**
     * Adds where a listener is reached.
     *
     * @param old the end's old address, first if this host has it; null: no loopback address
     */
    private Address offer(int fd, List<Integer> fds, StringBuilder text, Address old) throws IOException {
        Address at = sockets.localAddress(fd);
        List<Address> addresses = new ArrayList<>(at.isWildcard() ? hostAddresses(at.family(), at.port()) : List.of(at));
        if (old != null) {
            // Its old address first: if this host has it (all of 127/8 is any host's), the connection keeps it.
            Address again = old.withPort(at.port());
            boolean here = addresses.removeIf(a -> a.key().equals(again.key())) || again.isLoopback() && at.accepts(again);
            if (here) {
                addresses.add(0, again);
            }
        }
        for (Address address : addresses) {
            if (old != null || !address.isLoopback()) {
                text.append(',').append(address.hex());
                fds.add(fd);
            }
        }
        return at;
    }

    /** The program's listener that had accepted this end, else a new one for it alone. */
    private int listenerFor(SocketDescription end) throws IOException {
        long listener = snapshot.links.get(end.inode()).listener();
        Integer own = listener == 0 ? null : made.sockets.get(listener);
        return own != null ? own : ownListener(end);
    }

    private int ownListener(SocketDescription end) throws IOException {
        int fd = listenerSocket(end);
        bindSomewhere(fd, end.local());
        try {
            sockets.listen(fd, Net.SOMAXCONN);
        } catch (SyscallException e) {
            if (e.errno() != Net.EADDRINUSE) {
                throw e;
            }
            // Another part restarted on this host bound the same port and listened first
            // (SO_REUSEADDR let both bind): any free port does, the other parts hear which.
            fd = listenerSocket(end);
            sockets.bind(fd, Address.wildcard(end.family(), 0));
            sockets.listen(fd, Net.SOMAXCONN);
        }
        return fd;
    }

    private int listenerSocket(SocketDescription end) throws IOException {
        int fd = sockets.socket(end.family(), Net.SOCK_STREAM, end.protocol());
        made.temporary.add(fd);
        long[] v6only = end.options().get(SocketOption.V6ONLY);
        if (v6only != null) {
            SocketOption.V6ONLY.write(sockets, fd, v6only);
        }
        sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
        return fd;
    }

    // Its old address if this host has it (a loopback one on every address, so that other hosts reach it too).
    private void bindSomewhere(int fd, Address old) throws IOException {
        Address any = Address.wildcard(old.family(), old.port());
        List<Address> tries = old.isLoopback() ? List.of(any, any.withPort(0))
                : List.of(old, old.withPort(0), any, any.withPort(0));
        SyscallException last = null;
        for (Address address : tries) {
            try {
                sockets.bind(fd, address);
                return;
            } catch (SyscallException e) {
                last = e;
            }
        }
        throw last;
    }

    private void accept(SocketDescription end, Snapshot.Between other, Parcels.Parcel connected) throws IOException {
        if (connected == null) {
            gone(end, other);
            return;
        }
        String[] reached = connected.value().split("/");
        int listener = listening.get(end.inode()).get(Integer.parseInt(reached[0]));
        boolean own = !made.temporary.contains(listener);
        int fd = acceptFrom(listener, Address.fromHex(reached[1]), end);
        made.sockets.put(end.inode(), fd);
        rebuilder.applyOptions(fd, end, own);
    }

    /** Takes the connection from {@code from} out of the listener's queue, keeping the others met on the way. */
    private int acceptFrom(int listener, Address from, SocketDescription end) throws IOException {
        List<Integer> waiting = early.computeIfAbsent(listener, l -> new ArrayList<>());
        for (int fd : waiting) {
            if (sockets.peerAddress(fd).key().equals(from.key())) {
                waiting.remove(Integer.valueOf(fd));
                return fd;
            }
        }
        long deadline = System.nanoTime() + ACCEPT_MILLIS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            int[] ready = sockets.poll(new int[] {listener}, new int[] {Net.POLLIN}, 100);
            if ((ready[0] & Net.POLLIN) == 0) {
                continue;
            }
            int fd = sockets.accept(listener);
            if (sockets.peerAddress(fd).key().equals(from.key())) {
                return fd;
            }
            waiting.add(fd);
        }
        throw new IOException(end.describe() + ": the other part's end (from " + from
                + ") did not arrive at the listener that recreates the connection");
    }

    // ------------------------------------------------------------- connecting end

    private void connect(SocketDescription end, Snapshot.Between other, Parcels.Parcel listen, Parcels second)
            throws IOException {
        if (listen == null) {
            gone(end, other);
            return;
        }
        String[] fields = listen.value().split(",");
        boolean sameStack = fields[0].equals(stack());
        IOException failure = null;
        for (int i = 1; i < fields.length; i++) {
            Address target = Address.fromHex(fields[i]).reachableFrom(end.family());
            if (target.family() != end.family() || target.isLoopback() && !sameStack) {
                continue;
            }
            try {
                int fd = connectTo(end, target);
                made.sockets.put(end.inode(), fd);
                if (other.waiting()) {
                    log.accept(end.describe() + ": was waiting to be accepted by part " + other.part()
                            + "; it waits again, but the data it had sent before the checkpoint is not restored");
                }
                second.add("connected", other.part(), other.inode(), (i - 1) + "/" + sockets.localAddress(fd).hex());
                return;
            } catch (IOException e) {
                failure = e;
            }
        }
        throw new IOException(end.describe() + ": cannot connect again to its peer in part " + other.part()
                + (failure == null ? " (no address of it is reachable from here)" : ": " + failure.getMessage()),
                failure);
    }

    /**
     * A new end bound to its old address if it is free here (else to its old IP address with
     * another port, else wherever the kernel puts it), connected to {@code target}.
     */
    private int connectTo(SocketDescription end, Address target) throws IOException {
        // A loopback address cannot send to another host (the kernel refuses: EINVAL).
        List<Address> olds = end.local().isLoopback() && !target.isLoopback() ? List.of()
                : List.of(end.local(), end.local().withPort(0));
        for (Address old : olds) {
            int fd = rebuilder.create(end);
            try {
                if (bindOld(fd, end, old)) {
                    int done = connected(fd, end, target);
                    if (old.port() == 0) {
                        log.accept(end.describe() + ": its old port is still in use; it gets " + sockets.localAddress(fd));
                    }
                    return done;
                }
            } catch (SyscallException e) {
                if (e.errno() != Net.EADDRINUSE && e.errno() != Net.EADDRNOTAVAIL) {
                    sockets.close(fd);
                    throw e;
                }
            } catch (IOException | RuntimeException e) {
                sockets.close(fd);
                throw e;
            }
            sockets.close(fd);
        }
        int fd = rebuilder.create(end);
        try {
            connected(fd, end, target);
            log.accept(end.describe() + ": its old address " + end.local() + " is not available here; it gets "
                    + sockets.localAddress(fd));
            return fd;
        } catch (IOException e) {
            sockets.close(fd);
            throw e;
        }
    }

    private boolean bindOld(int fd, SocketDescription end, Address old) throws IOException {
        sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
        try {
            sockets.bind(fd, old);
            return true;
        } catch (SyscallException e) {
            return false;
        } finally {
            long[] reuse = end.options().get(SocketOption.REUSEADDR);
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, reuse == null ? 0 : (int) reuse[0]);
        }
    }

    // A peer host that does not answer must not hold the restart for minutes.
    private int connected(int fd, SocketDescription end, Address target) throws IOException {
        SocketOption.SNDTIMEO.write(sockets, fd, new long[] {CONNECT_SECONDS, 0});
        try {
            sockets.connect(fd, target);
        } finally {
            long[] timeout = end.options().get(SocketOption.SNDTIMEO);
            SocketOption.SNDTIMEO.write(sockets, fd, timeout == null ? new long[] {0, 0} : timeout);
        }
        return fd;
    }

    // ------------------------------------------------------------- both ends

    private void gone(SocketDescription end, Snapshot.Between other) throws IOException {
        log.accept(end.describe() + ": its peer's part " + other.part() + " did not come back with this restart");
        rebuilder.outside(end);
    }

    // What waited in the other end's queue is sent again through this end, now that they are connected.
    private void sendAgain(List<SocketDescription> ends, Map<Long, Parcels.Parcel> data) throws IOException {
        for (SocketDescription end : ends) {
            Parcels.Parcel parcel = from(data, end, snapshot.between.get(end.inode()));
            Integer fd = made.sockets.get(end.inode());
            if (parcel == null || fd == null || made.standIns.containsKey(end.inode())) {
                continue;
            }
            byte[] bytes = Base64.getDecoder().decode(parcel.value());
            long lost = filler.stream(fd, bytes, -1);
            if (lost > 0) {
                log.accept(end.describe() + ": " + lost + " of the " + bytes.length
                        + " bytes that waited at its peer in part " + parcel.part() + " could not be sent again");
            }
        }
    }

    /** @return what names this host's network: two parts with the same can reach each other's loopback addresses */
    private static String stack() {
        try {
            String boot = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
            return boot + "/" + Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString().replaceAll("\\D", "");
        } catch (IOException | UnsupportedOperationException e) {
            return "unknown";
        }
    }

    /** @return this host's addresses of the family with the port: others first, loopback last */
    static List<Address> hostAddresses(int family, int port) throws IOException {
        List<Address> outer = new ArrayList<>();
        List<Address> loop = new ArrayList<>();
        try {
            for (NetworkInterface nic : NetworkInterface.networkInterfaces().toList()) {
                if (!nic.isUp()) {
                    continue;
                }
                for (InetAddress ip : nic.inetAddresses().toList()) {
                    boolean v6 = ip instanceof Inet6Address;
                    if (v6 && (family == Net.AF_INET || ip.isLinkLocalAddress())) {
                        continue;
                    }
                    Address address = Address.inet(v6 ? Net.AF_INET6 : Net.AF_INET, ip.getAddress(), port);
                    (ip.isLoopbackAddress() ? loop : outer).add(address);
                }
            }
        } catch (SocketException e) {
            throw new IOException("cannot list this host's addresses: " + e.getMessage(), e);
        }
        outer.addAll(loop);
        return outer;
    }
}
