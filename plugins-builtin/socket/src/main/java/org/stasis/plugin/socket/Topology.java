package org.stasis.plugin.socket;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Finds which sockets of the computation are connected to each other. Unix sockets
 * name their peer by inode (sock_diag); TCP connections are matched by addresses (one
 * end's local address is the other's peer address). Anything connected to a socket
 * that is not in the computation is {@link Link.Kind#OUTSIDE}.
 */
final class Topology {
    private final Map<Long, SocketDescription> members;

    /** @param members the sockets of the computation, by inode */
    Topology(Map<Long, SocketDescription> members) {
        this.members = members;
    }

    /** @return each socket's link, by inode */
    Map<Long, Link> links() {
        Map<Long, Link> links = new LinkedHashMap<>();
        for (SocketDescription socket : members.values()) {
            links.put(socket.inode(), link(socket));
        }
        return links;
    }

    private Link link(SocketDescription socket) {
        if (socket.isTcp() && socket.state() == Net.TCP_SYN_SENT) {
            return Link.OUTSIDE; // a connection still being set up cannot be recreated half-way
        }
        if (!socket.supported() || socket.listening() || !socket.connected() || socket.isUdp()) {
            return Link.ALONE;
        }
        return socket.isUnix() ? unixLink(socket) : tcpLink(socket);
    }

    private Link unixLink(SocketDescription socket) {
        SocketDescription peer = members.get(socket.peerInode());
        if (peer == null) {
            Optional<SocketDescription> listener = members.values().stream().filter(SocketDescription::listening)
                    .filter(l -> Arrays.stream(l.waiting()).anyMatch(i -> i == socket.inode())).findFirst();
            if (listener.isPresent() && socket.type() != Net.SOCK_DGRAM) {
                return new Link(Link.Kind.WAITING, listener.get().inode(), 0);
            }
            return Link.OUTSIDE;
        }
        if (socket.type() == Net.SOCK_DGRAM && peer.peerInode() != socket.inode()) {
            return new Link(Link.Kind.TO, peer.inode(), 0);
        }
        // The end that carries a listener's name was accepted from it.
        long listener = unixListenerNamed(peer.local()).or(() -> unixListenerNamed(socket.local()))
                .map(SocketDescription::inode).orElse(0L);
        return new Link(Link.Kind.PAIR, peer.inode(), listener);
    }

    private Optional<SocketDescription> unixListenerNamed(Address name) {
        if (name.isUnnamed()) {
            return Optional.empty();
        }
        return members.values().stream().filter(SocketDescription::listening)
                .filter(l -> l.local().key().equals(name.key())).findFirst();
    }

    private Link tcpLink(SocketDescription socket) {
        Optional<SocketDescription> peer = members.values().stream()
                .filter(other -> other != socket && other.isTcp() && !other.listening())
                .filter(other -> other.local().key().equals(socket.peer().key())
                        && other.peer().key().equals(socket.local().key()))
                .findFirst();
        if (peer.isPresent()) {
            long listener = tcpListenerFor(peer.get().local()).or(() -> tcpListenerFor(socket.local()))
                    .map(SocketDescription::inode).orElse(0L);
            return new Link(Link.Kind.PAIR, peer.get().inode(), listener);
        }
        Optional<SocketDescription> listener = tcpListenerFor(socket.peer());
        if (listener.isPresent() && socket.state() == Net.TCP_ESTABLISHED) {
            return new Link(Link.Kind.WAITING, listener.get().inode(), 0);
        }
        return Link.OUTSIDE;
    }

    private Optional<SocketDescription> tcpListenerFor(Address address) {
        return listenerFor(members.values(), address);
    }

    /**
     * @param sockets sockets to look through
     * @param address an address a TCP client connected to
     * @return the listening TCP socket that takes connections to that address
     */
    static Optional<SocketDescription> listenerFor(Collection<SocketDescription> sockets, Address address) {
        return sockets.stream().filter(s -> s.isTcp() && s.listening() && s.takes(address)).findFirst();
    }
}
