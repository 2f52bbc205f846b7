package org.stasis.plugin.socket;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Puts the saved queues back into recreated sockets, before the program runs: a
 * stream's bytes through its peer (or through the stand-in of a vanished peer),
 * datagrams through the socket of the computation that had sent them (or, for an
 * unnamed sender, any fresh socket). Then applies the shutdowns and lets the
 * stand-ins go.
 */
final class Refiller {
    private final Sockets sockets;
    private final Snapshot snapshot;
    private final Made made;
    private final Binder binder;
    private final Filler filler;
    private final Consumer<String> log;
    private int anonymous = -1;

    Refiller(Sockets sockets, Snapshot snapshot, Made made, Binder binder, Filler filler, Consumer<String> log) {
        this.sockets = sockets;
        this.snapshot = snapshot;
        this.made = made;
        this.binder = binder;
        this.filler = filler;
        this.log = log;
    }

    private Link link(SocketDescription socket) {
        return snapshot.links.getOrDefault(socket.inode(), Link.ALONE);
    }

    /** Puts back what waited in every queue. */
    void refill() throws IOException {
        for (Map.Entry<Long, Queued> entry : snapshot.queues.entrySet()) {
            SocketDescription receiver = snapshot.sockets.get(entry.getKey());
            if (receiver == null || entry.getValue().isEmpty()) {
                continue;
            }
            if (link(receiver).kind() == Link.Kind.BETWEEN && !made.standIns.containsKey(receiver.inode())) {
                continue; // the other part sent it again (Rejoiner)
            }
            Queued queued = entry.getValue();
            if (receiver.isStream() || receiver.type() == Net.SOCK_SEQPACKET) {
                refillConnected(receiver, queued);
            } else {
                refillDatagrams(receiver, queued);
            }
        }
    }

    /** The sender of a connected socket: its peer in the computation, or the stand-in for the one outside. */
    private Optional<Integer> senderFor(SocketDescription receiver) {
        Link link = link(receiver);
        if (link.kind() == Link.Kind.PAIR) {
            return Optional.ofNullable(made.sockets.get(link.other()));
        }
        return Optional.ofNullable(made.standIns.get(receiver.inode())).map(Made.StandIn::fd);
    }

    private void refillConnected(SocketDescription receiver, Queued queued) throws IOException {
        Optional<Integer> sender = senderFor(receiver);
        if (sender.isEmpty()) {
            log.accept(receiver.describe() + ": " + queued.summary() + " that waited in it are lost (no sender)");
            return;
        }
        long lost = 0;
        if (queued.stream()) {
            lost = filler.stream(sender.get(), queued.bytes(), made.sockets.getOrDefault(receiver.inode(), -1));
        } else {
            for (Queued.Message m : queued.messages()) {
                if (!filler.message(sender.get(), m.data(), null)) {
                    lost += m.data().length;
                }
            }
        }
        if (lost > 0) {
            log.accept(receiver.describe() + ": " + lost + " of the bytes that waited in it could not be put back");
        }
    }

    private void refillDatagrams(SocketDescription receiver, Queued queued) throws IOException {
        Link link = link(receiver);
        Integer partner = link.kind() == Link.Kind.PAIR ? made.sockets.get(link.other()) : null;
        Address name = receiver.local().isUnnamed() ? null
                : receiver.isUnix() ? binder.unixName(receiver.local()) : sockets.localAddress(made.sockets.get(receiver.inode()));
        int dropped = 0;
        for (Queued.Message message : queued.messages()) {
            Optional<SocketDescription> from = namedSender(receiver, message.from());
            int sender;
            Address to;
            if (from.isPresent() && name != null) {
                sender = made.sockets.get(from.get().inode());
                to = receiver.isUnix() ? name : name.reachableFrom(from.get().family());
            } else if (partner != null) {
                sender = partner;
                to = null;
            } else if (receiver.isUnix() && name != null && message.from().isUnnamed()) {
                sender = anonymousSender(); // an unnamed sender shows up unnamed: any fresh socket can play it
                to = name;
            } else {
                dropped++;
                continue;
            }
            if (!filler.message(sender, message.data(), to)) {
                dropped++;
            }
        }
        if (dropped > 0) {
            log.accept(receiver.describe() + ": " + dropped + " of the " + queued.messages().size()
                    + " datagrams that waited in it were not put back (their senders were outside the computation)");
        }
    }

    private int anonymousSender() throws IOException {
        if (anonymous < 0) {
            anonymous = sockets.socket(Net.AF_UNIX, Net.SOCK_DGRAM, 0);
            made.temporary.add(anonymous);
        }
        return anonymous;
    }

    /** @return the socket of the computation that has the address a datagram came from */
    private Optional<SocketDescription> namedSender(SocketDescription receiver, Address from) {
        if (from.isUnnamed()) {
            return Optional.empty();
        }
        return snapshot.sockets.values().stream()
                .filter(s -> s.isUnix() == receiver.isUnix() && s.type() == receiver.type() && !s.local().isUnnamed())
                .filter(s -> s.isUnix() ? s.local().key().equals(from.key()) : s.local().accepts(from))
                .filter(s -> made.sockets.containsKey(s.inode()))
                .findFirst();
    }

    /** Shuts what the program had shut (after the refill: a shut side sends nothing more). */
    void applyShutdowns() throws IOException {
        for (Map.Entry<Long, Integer> entry : made.sockets.entrySet()) {
            SocketDescription socket = snapshot.sockets.get(entry.getKey());
            Link.Kind kind = link(socket).kind();
            if ((socket.shutdown() & Net.SEND_SHUTDOWN) != 0 && kind != Link.Kind.ALONE) {
                sockets.shutdown(entry.getValue(), Net.SHUT_WR);
            }
            if (socket.isTcp() && (kind == Link.Kind.PAIR || kind == Link.Kind.BETWEEN && !made.standIns.containsKey(
                    entry.getKey())) && readShutByItself(socket)) {
                sockets.shutdown(entry.getValue(), Net.SHUT_RD);
            }
        }
    }

    // A TCP end that cannot read although its peer did not close was shut with SHUT_RD.
    private boolean readShutByItself(SocketDescription socket) {
        Snapshot.Between between = snapshot.between.get(socket.inode());
        if (between != null) {
            return (socket.shutdown() & Net.RCV_SHUTDOWN) != 0 && (between.shutdown() & Net.SEND_SHUTDOWN) == 0;
        }
        SocketDescription peer = snapshot.sockets.get(link(socket).other());
        return (socket.shutdown() & Net.RCV_SHUTDOWN) != 0 && peer != null
                && (peer.shutdown() & Net.SEND_SHUTDOWN) == 0;
    }

    /** Lets the stand-ins of vanished peers go: with a reset, or closed normally when the peer had closed. */
    void closeStandIns() throws IOException {
        for (Map.Entry<Long, Made.StandIn> entry : made.standIns.entrySet()) {
            Made.StandIn standIn = entry.getValue();
            if (standIn.tcp()) {
                if (!filler.flushed(standIn.fd())) {
                    log.accept(snapshot.sockets.get(entry.getKey()).describe()
                            + ": the data that waited in it could not all be put back before the reset");
                }
                if (standIn.reset()) {
                    SocketOption.LINGER.write(sockets, standIn.fd(), new long[] {1, 0});
                }
            }
            sockets.close(standIn.fd());
        }
        made.standIns.clear();
    }
}
