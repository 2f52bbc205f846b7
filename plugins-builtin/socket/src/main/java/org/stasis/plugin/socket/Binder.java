package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Gives recreated sockets their old names: IP addresses (temporarily with
 * SO_REUSEADDR, as connections of the old processes may linger in TIME_WAIT) and
 * Unix names (a socket file the old processes left behind is removed, but only if
 * nothing answers on it).
 */
final class Binder {
    private static final long LINGER_NANOS = 5_000_000_000L;

    private final Sockets sockets;
    private final Consumer<String> log;
    private final UnaryOperator<String> rewrite;
    private final Lingering lingering;
    private final Function<Long, UnixPlace> places;
    private final List<Path> removedByProgram = new ArrayList<>();
    /** IPv6 listeners with IPV6_V6ONLY this restart bound: they share their port with IPv4 listeners. */
    private final List<Address> v6onlyListeners = new ArrayList<>();
    private final boolean listenersMayMove;

    /**
     * @param sockets the system calls
     * @param log where to report an address that had to change
     * @param rewrite the restart's path rewrites
     * @param lingering the connections of killed processes that may still hold a port
     * @param places where each Unix socket bound to a path lived, by inode (null if unknown)
     */
    Binder(Sockets sockets, Consumer<String> log, UnaryOperator<String> rewrite, Lingering lingering,
            Function<Long, UnixPlace> places) {
        this(sockets, log, rewrite, lingering, places, false);
    }

    /**
     * @param listenersMayMove whether this restart is a part of one that spans hosts: a
     *        listener whose address is taken or absent here listens elsewhere instead of
     *        failing the restart
     */
    Binder(Sockets sockets, Consumer<String> log, UnaryOperator<String> rewrite, Lingering lingering,
            Function<Long, UnixPlace> places, boolean listenersMayMove) {
        this.listenersMayMove = listenersMayMove;
        this.sockets = sockets;
        this.log = log;
        this.rewrite = rewrite;
        this.lingering = lingering;
        this.places = places;
    }

    /** @return the name to use now: a path after the restart's path rewrites */
    Address unixName(Address name) {
        return name.isPath() ? Address.unixPath(rewrite.apply(name.path())) : name;
    }

    /** Binds an IP socket to its old address; a busy or vanished address is replaced unless it must be kept. */
    void bindIp(int fd, SocketDescription socket, Address address, boolean mustKeep) throws IOException {
        if (address.isUnnamed()) {
            return;
        }
        sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
        try {
            if (mustKeep) {
                bindListener(fd, address);
                if (socket.listening() && v6only(socket)) {
                    v6onlyListeners.add(address);
                }
            } else {
                sockets.bind(fd, address);
            }
        } catch (SyscallException e) {
            boolean elsewhere = e.errno() == Net.EADDRINUSE || e.errno() == Net.EADDRNOTAVAIL;
            if (mustKeep && elsewhere && listenersMayMove && socket.listening()) {
                moveListener(fd, socket, address, e);
                return;
            }
            if (mustKeep || !elsewhere) {
                throw new IOException(socket.describe() + ": cannot " + (socket.listening() ? "listen on " : "bind to ")
                        + address + " again: " + e.getMessage()
                        + (e.errno() == Net.EADDRINUSE ? "; another program uses it" : ""), e);
            }
            Address instead = e.errno() == Net.EADDRINUSE ? address.withPort(0) : Address.loopback(socket.family(), 0);
            sockets.bind(fd, instead);
            log.accept(socket.describe() + ": " + address + " is " + (e.errno() == Net.EADDRINUSE ? "in use" : "gone")
                    + "; bound to " + sockets.localAddress(fd) + " instead");
        } finally {
            long[] reuse = socket.options().get(SocketOption.REUSEADDR);
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, reuse == null ? 0 : (int) reuse[0]);
        }
    }

    /** Makes another socket like the one being restored (a bound socket cannot be bound again). */
    interface SocketMaker {
        int make() throws IOException;
    }

    /**
     * Listens on an IP socket {@link #bindIp} bound. SO_REUSEADDR lets two sockets bind one
     * port while neither listens: two parts of a span restart on one host, each with a
     * listener on the port its own host had, may both bind it, and the one that listens
     * second finds it taken. Its listener then moves as it would have at bind.
     *
     * @return the listening descriptor: {@code fd}, or a new one from {@code maker} that
     *         replaces it ({@code fd} is closed then)
     */
    int listenIp(int fd, SocketDescription socket, int backlog, SocketMaker maker) throws IOException {
        try {
            sockets.listen(fd, backlog);
            return fd;
        } catch (SyscallException e) {
            if (e.errno() != Net.EADDRINUSE || !listenersMayMove) {
                throw new IOException(socket.describe() + ": cannot listen on " + socket.local() + " again: "
                        + e.getMessage() + (e.errno() == Net.EADDRINUSE ? "; another program uses it" : ""), e);
            }
            int instead = maker.make();
            try {
                moveListener(instead, socket, socket.local(), e);
                sockets.listen(instead, backlog);
            } catch (IOException | RuntimeException again) {
                sockets.close(instead);
                throw again;
            }
            sockets.close(fd);
            return instead;
        }
    }

    /*
     * A part of a computation that spans hosts may restart on a host where another part's
     * listener took the same port (each host had it), or where its address does not
     * exist: connections made already are rebuilt between the parts anyway, so the
     * listener goes on the same port of every address, else on any free port, and says so.
     */
    private void moveListener(int fd, SocketDescription socket, Address address, SyscallException why)
            throws IOException {
        Address any = Address.wildcard(socket.family(), address.port());
        Address instead = why.errno() == Net.EADDRNOTAVAIL ? any : address.withPort(0);
        try {
            sockets.bind(fd, instead);
        } catch (SyscallException again) {
            instead = instead.withPort(0);
            sockets.bind(fd, instead);
        }
        log.accept(socket.describe() + ": " + address + " is " + (why.errno() == Net.EADDRINUSE ? "in use" : "not on")
                + " this host; it listens on " + sockets.localAddress(fd) + " instead (new connections to the old"
                + " address are refused; connections made before the checkpoint are rebuilt)");
    }

    /**
     * @return whether {@code address}'s IP is one of this host's (a part restarted on
     *         another host finds its old host's addresses absent)
     */
    boolean isHere(Address address) throws IOException {
        if (address.isWildcard() || address.isLoopback()) {
            return true;
        }
        int probe = sockets.socket(address.family(), Net.SOCK_DGRAM, 0);
        try {
            sockets.bind(probe, address.withPort(0));
            return true;
        } catch (SyscallException e) {
            if (e.errno() == Net.EADDRNOTAVAIL) {
                return false;
            }
            throw e;
        } finally {
            sockets.close(probe);
        }
    }

    private static boolean v6only(SocketDescription socket) {
        long[] value = socket.options().get(SocketOption.V6ONLY);
        return socket.family() == Net.AF_INET6 && value != null && value.length > 0 && value[0] != 0;
    }

    /*
     * Address reuse lets a listener bind while connections of the killed processes
     * linger in TIME_WAIT only if those had it too. When the program did not set it,
     * the lingering connections are ended (Lingering) and the bind tried again, for a
     * few seconds: connections in other closing states end by themselves.
     */
    private void bindListener(int fd, Address address) throws IOException {
        long deadline = System.nanoTime() + LINGER_NANOS;
        while (true) {
            try {
                sockets.bind(fd, address);
                return;
            } catch (SyscallException e) {
                if (e.errno() != Net.EADDRINUSE || lingering.listened(address, v6onlyListeners)
                        || System.nanoTime() > deadline || !lingering.endTimeWait(address)) {
                    throw e;
                }
                sockets.poll(new int[] {fd}, new int[] {0}, 20);
            }
        }
    }

    /** Binds a Unix socket to its old name, removing a stale socket file that nothing listens on. */
    void bindUnix(int fd, SocketDescription socket, Address name) throws IOException {
        Address target = unixName(name);
        UnixPlace place = target.isPath() && name.equals(socket.local()) ? places.apply(socket.inode()) : null;
        if (place != null) {
            place.makeDirectories(Path.of(target.path()), log);
        }
        try {
            sockets.bind(fd, target);
        } catch (SyscallException e) {
            if (e.errno() != Net.EADDRINUSE || !target.isPath() || !stale(target, socket.type())) {
                throw new IOException(socket.describe() + ": cannot take the name " + target + " again: "
                        + e.getMessage() + (e.errno() == Net.EADDRINUSE ? "; another program uses it" : ""), e);
            }
            Files.delete(Path.of(target.path()));
            sockets.bind(fd, target);
        }
        if (place != null) {
            place.settle(Path.of(target.path()));
            if (place.fileMode() == UnixPlace.ABSENT) {
                removedByProgram.add(Path.of(target.path()));
            }
        }
    }

    /**
     * Removes the socket files the program had removed (once nothing of the restart
     * needs to connect by path any more): the sockets keep their names, as before.
     */
    void removeFilesTheProgramRemoved() throws IOException {
        for (Path path : removedByProgram) {
            Files.deleteIfExists(path);
        }
        removedByProgram.clear();
    }

    // A socket file left by the old processes: a socket nobody answers on.
    private boolean stale(Address path, int type) throws IOException {
        Optional<BasicFileAttributes> attributes;
        try {
            attributes = Optional.of(Files.readAttributes(Path.of(path.path()), BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS));
        } catch (IOException e) {
            attributes = Optional.empty();
        }
        if (attributes.isEmpty() || !attributes.get().isOther()) {
            return false;
        }
        int probe = sockets.socket(Net.AF_UNIX, type, 0);
        try {
            sockets.connect(probe, path);
            return false;
        } catch (SyscallException e) {
            return e.errno() == Net.ECONNREFUSED;
        } finally {
            sockets.close(probe);
        }
    }
}
