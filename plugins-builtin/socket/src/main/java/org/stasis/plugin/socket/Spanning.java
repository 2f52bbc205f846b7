package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Finds the TCP connections between this part of a computation and its other parts
 * (hosts), at checkpoint. Every part gives the others (exchange topic {@value #TOPIC})
 * its TCP ends whose peer is not in the part (outside, or apparently waiting in one of
 * its listeners), each with a fresh cookie; an end whose
 * peer address is another part's end's local address and the other way round is a
 * {@link Link.Kind#BETWEEN} link. Both parts then drain it at once ({@link CrossDrain}).
 * Every part exchanges, also with no TCP socket at all, so that no part waits for it.
 */
final class Spanning {
    /** The exchange topic of the drain. */
    static final String TOPIC = "tcp";

    /**
     * One part's TCP end whose peer is not in that part.
     *
     * @param part the part
     * @param inode the end's inode in that part
     * @param local its address
     * @param peer its peer's address
     * @param shutdown its shutdown bits
     * @param accepted whether a listener of that part took it (then it listens at restart)
     * @param cookie what it sends through itself to mark the end of its data
     */
    record Offer(String part, long inode, Address local, Address peer, int shutdown, boolean accepted, byte[] cookie) {
        String encode() {
            return inode + " " + local.hex() + " " + peer.hex() + " " + shutdown + " " + (accepted ? 1 : 0) + " "
                    + HexFormat.of().formatHex(cookie);
        }

        static Offer decode(String part, String line) {
            String[] f = line.trim().split(" ");
            return new Offer(part, Long.parseLong(f[0]), Address.fromHex(f[1]), Address.fromHex(f[2]),
                    Integer.parseInt(f[3]), f[4].equals("1"), HexFormat.of().parseHex(f[5]));
        }

        /** @return whether this end and {@code other} are the two ends of one connection */
        boolean facing(Offer other) {
            return local.key().equals(other.peer.key()) && peer.key().equals(other.local.key());
        }
    }

    /**
     * A connection between parts: this part's end and the other part's.
     *
     * @param mine this part's end
     * @param ours what this part offered for it
     * @param theirs what the other part offered for its end
     */
    record Found(SocketDescription mine, Offer ours, Offer theirs) {
    }

    private final RandomGenerator random;
    private final Consumer<String> log;

    Spanning(RandomGenerator random, Consumer<String> log) {
        this.random = random;
        this.log = log;
    }

    /**
     * Exchanges this part's outside TCP ends, turns those that face another part's end into
     * {@link Link.Kind#BETWEEN} links in {@code into} (with the other end in
     * {@link Snapshot#between}).
     *
     * @param part this part's name
     * @param alone whether the computation has no other part
     * @param exchange how to reach the other parts
     * @param into the sockets described and linked so far
     * @return the connections between parts, to drain
     */
    List<Found> find(String part, boolean alone, Exchange exchange, Snapshot into) throws IOException {
        List<Offer> ours = offers(part, into);
        StringBuilder text = new StringBuilder();
        ours.forEach(o -> text.append(o.encode()).append('\n'));
        if (!alone) {
            listenersAndHost(into, text);
        }
        Map<String, byte[]> all = exchange.exchange(TOPIC, text.toString().getBytes(StandardCharsets.US_ASCII));
        Heard heard = new Heard();
        all.forEach((name, bytes) -> heard.read(name, name.equals(part) ? null : bytes));
        List<Found> found = new ArrayList<>();
        for (Offer mine : ours) {
            List<Offer> facing = heard.offers.stream().filter(mine::facing).toList();
            SocketDescription socket = into.sockets.get(mine.inode());
            if (facing.size() > 1) {
                log.accept(socket.describe() + ": several parts hold a socket with its peer's address ("
                        + facing.stream().map(Offer::part).toList() + "); it is treated as leading outside");
            } else if (facing.size() == 1) {
                found.add(link(into, socket, mine, facing.get(0)));
            }
        }
        if (!alone) {
            waiting(part, into, ours, heard);
        }
        return found;
    }

    /** What the other parts gave: their ends, their listeners, their hosts' addresses. */
    private static final class Heard {
        final List<Offer> offers = new ArrayList<>();
        final List<Listening> listeners = new ArrayList<>();
        final Map<String, Set<String>> hosts = new HashMap<>();

        void read(String part, byte[] bytes) {
            if (bytes == null) {
                return;
            }
            for (String line : new String(bytes, StandardCharsets.US_ASCII).lines().filter(l -> !l.isBlank()).toList()) {
                String[] f = line.trim().split(" ");
                if (f[0].equals("L")) {
                    listeners.add(new Listening(part, Long.parseLong(f[1]), Address.fromHex(f[2]),
                            f.length > 3 && f[3].equals("1")));
                } else if (f[0].equals("H")) {
                    hosts.computeIfAbsent(part, k -> new HashSet<>()).add(f[1]);
                } else {
                    offers.add(Offer.decode(part, line));
                }
            }
        }
    }

    /**
     * A TCP listener of a part.
     *
     * @param part the part
     * @param inode its inode there
     * @param local its address
     * @param v6only whether it is an IPv6 socket with IPV6_V6ONLY (then it takes no IPv4 connection)
     */
    record Listening(String part, long inode, Address local, boolean v6only) {
        Listening(String part, SocketDescription socket) {
            this(part, socket.inode(), socket.local(), socket.v6only());
        }

        /** @return whether a connection to {@code address} would wait in this listener */
        boolean takes(Address address) {
            return local.accepts(address, v6only);
        }
    }

    // Every part gives its TCP listeners, and its host's addresses if one listens on the any-address.
    private static void listenersAndHost(Snapshot into, StringBuilder text) throws IOException {
        boolean wildcard = false;
        for (SocketDescription socket : into.sockets.values()) {
            if (socket.isTcp() && socket.listening()) {
                text.append("L ").append(socket.inode()).append(' ').append(socket.local().hex()).append(' ')
                        .append(socket.v6only() ? 1 : 0).append('\n');
                wildcard |= socket.local().isWildcard();
            }
        }
        if (wildcard) {
            for (Address address : Rejoiner.hostAddresses(Net.AF_INET6, 0)) {
                text.append("H ").append(ipKey(address)).append('\n');
            }
        }
    }

    private static String ipKey(Address address) {
        return address.withPort(0).key();
    }

    /*
     * A client of one part whose peer is no part's end but whose address another part's
     * listener takes is waiting in that listener's accept queue. Every part sees the same
     * offers, so the client's part and the listener's part find it alike.
     */
    private void waiting(String part, Snapshot into, List<Offer> ours, Heard heard) {
        List<Offer> everyone = new ArrayList<>(heard.offers);
        everyone.addAll(ours);
        List<Listening> listeners = new ArrayList<>(heard.listeners);
        into.sockets.values().stream().filter(s -> s.isTcp() && s.listening())
                .forEach(s -> listeners.add(new Listening(part, s)));
        Map<String, Set<String>> hosts = new HashMap<>(heard.hosts);
        for (Offer client : everyone) {
            boolean linked = everyone.stream().anyMatch(o -> !o.part().equals(client.part()) && o.facing(client));
            if (linked || into.links.getOrDefault(client.inode(), Link.ALONE).kind() == Link.Kind.WAITING
                    && client.part().equals(part)) {
                continue;
            }
            List<Listening> takers = listeners.stream().filter(l -> !l.part().equals(client.part()))
                    .filter(l -> l.takes(client.peer()))
                    .filter(l -> !l.local().isWildcard() || l.part().equals(part) && ownAddress(client.peer())
                            || hosts.getOrDefault(l.part(), Set.of()).contains(ipKey(client.peer())))
                    .toList();
            if (takers.size() != 1) {
                continue;
            }
            Listening listener = takers.get(0);
            if (client.part().equals(part)) {
                into.links.put(client.inode(), new Link(Link.Kind.BETWEEN, listener.inode(), 0));
                into.between.put(client.inode(), new Snapshot.Between(listener.part(), listener.inode(), false, 0, true));
            } else if (listener.part().equals(part)) {
                into.waiters.computeIfAbsent(listener.inode(), k -> new ArrayList<>())
                        .add(new Snapshot.Waiter(client.part(), client.inode()));
            }
        }
    }

    private static boolean ownAddress(Address address) {
        try {
            String key = ipKey(address);
            return Rejoiner.hostAddresses(Net.AF_INET6, 0).stream().anyMatch(a -> ipKey(a).equals(key));
        } catch (IOException e) {
            return false;
        }
    }

    private List<Offer> offers(String part, Snapshot into) {
        List<Offer> offers = new ArrayList<>();
        for (SocketDescription socket : into.sockets.values()) {
            Link link = into.links.getOrDefault(socket.inode(), Link.ALONE);
            // A client "waiting" in a listener of this part may be connected to another part's service on the
            // same port (a listener on the any-address takes that port's connections to every address).
            boolean candidate = link.kind() == Link.Kind.OUTSIDE || link.kind() == Link.Kind.WAITING;
            if (!socket.isTcp() || socket.listening() || !candidate
                    || socket.state() == Net.TCP_SYN_SENT || socket.peer().equals(Address.NONE)) {
                continue;
            }
            byte[] cookie = new byte[CookieDrain.COOKIE];
            random.nextBytes(cookie);
            boolean accepted = listener(into, socket).isPresent();
            offers.add(new Offer(part, socket.inode(), socket.local(), socket.peer(), socket.shutdown(), accepted,
                    cookie));
        }
        return offers;
    }

    private static Optional<SocketDescription> listener(Snapshot into, SocketDescription socket) {
        return Topology.listenerFor(into.sockets.values(), socket.local());
    }

    private static Found link(Snapshot into, SocketDescription socket, Offer mine, Offer theirs) {
        // Both parts decide alike: the end a listener took listens again, else the first part by name.
        boolean server = mine.accepted() != theirs.accepted() ? mine.accepted()
                : mine.part().compareTo(theirs.part()) < 0;
        long listener = listener(into, socket).map(SocketDescription::inode).orElse(0L);
        into.links.put(socket.inode(), new Link(Link.Kind.BETWEEN, theirs.inode(), listener));
        into.between.put(socket.inode(), new Snapshot.Between(theirs.part(), theirs.inode(), server, theirs.shutdown()));
        return new Found(socket, mine, theirs);
    }
}
