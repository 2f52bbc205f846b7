package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Connections of killed processes that still hold a listener's port. When a program
 * that did not set SO_REUSEADDR is killed, its connections linger in TIME_WAIT (for a
 * minute) without address reuse, and the kernel refuses to bind the port again even to
 * a socket that sets SO_REUSEADDR. A TIME_WAIT connection goes away when its peer's
 * address and port send it a reset (Linux's default, {@code net.ipv4.tcp_rfc1337=0}):
 * a socket bound to the peer's address connects to the lingering end, which answers
 * with an acknowledgement the connecting socket does not expect and resets. Only
 * connections in TIME_WAIT on the very port are touched, and only when no listener
 * holds it. The connections are found in {@code /proc/net/tcp} and {@code tcp6}.
 */
final class Lingering {
    /**
     * A TCP connection the kernel lists.
     *
     * @param local its own address
     * @param remote its peer's address
     * @param state the kernel's TCP state
     */
    record Connection(Address local, Address remote, int state) {
    }

    private static final int RESET_MILLIS = 20;

    private final Sockets sockets;
    private final Path net;

    /**
     * @param sockets the system calls
     * @param net where the kernel lists connections ({@code /proc/net})
     */
    Lingering(Sockets sockets, Path net) {
        this.sockets = sockets;
        this.net = net;
    }

    /** @return the TCP connections and listeners whose own address is on {@code address}'s port */
    List<Connection> on(Address address) throws IOException {
        List<Connection> found = new ArrayList<>();
        for (String table : List.of("tcp", "tcp6")) {
            Path file = net.resolve(table);
            if (!Files.isReadable(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file)) {
                Connection c = parse(line);
                if (c != null && c.local().port() == address.port()
                        && (address.isWildcard() || c.local().isWildcard() || address.accepts(c.local()))) {
                    found.add(c);
                }
            }
        }
        return found;
    }

    /** @return the connection a line of /proc/net/tcp or tcp6 lists, or null for the header */
    static Connection parse(String line) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length < 4 || !fields[0].endsWith(":") || !fields[1].contains(":")) {
            return null;
        }
        return new Connection(address(fields[1]), address(fields[2]), Integer.parseInt(fields[3], 16));
    }

    // The kernel prints each 32-bit word of the address in host order, then the port.
    private static Address address(String text) {
        String[] parts = text.split(":");
        String hex = parts[0];
        ByteBuffer ip = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < hex.length(); i += 8) {
            ip.putInt((int) Long.parseLong(hex.substring(i, i + 8), 16));
        }
        return Address.inet(hex.length() == 8 ? Net.AF_INET : Net.AF_INET6, ip.array(), Integer.parseInt(parts[1], 16));
    }

    /**
     * Ends the TIME_WAIT connections on {@code address}'s port.
     *
     * @return false if one of them cannot be ended from this host (its peer's address is
     *         not here: a part of a computation that moved between hosts), so waiting for
     *         the port is in vain; true otherwise
     */
    boolean endTimeWait(Address address) throws IOException {
        boolean endable = true;
        for (Connection c : on(address)) {
            if (c.state() == Net.TCP_TIME_WAIT) {
                endable &= reset(c);
            }
        }
        return endable;
    }

    /**
     * @param address the address a listener is to be bound to
     * @param v6only IPv6 listeners known to have IPV6_V6ONLY (the kernel's list does not say):
     *        they do not hold an IPv4 address's port
     * @return whether a listener holds {@code address}'s port
     */
    boolean listened(Address address, List<Address> v6only) throws IOException {
        return on(address).stream().filter(c -> c.state() == Net.TCP_LISTEN)
                .anyMatch(c -> address.family() != Net.AF_INET
                        || v6only.stream().noneMatch(own -> own.key().equals(c.local().key())));
    }

    // From the peer's address: our SYN draws the lingering end's acknowledgement, our reset answers it.
    // False if the peer's address is not on this host.
    private boolean reset(Connection lingering) throws IOException {
        int fd = sockets.socket(lingering.remote().family(), Net.SOCK_STREAM | Net.SOCK_NONBLOCK, Net.IPPROTO_TCP);
        try {
            sockets.setIntOption(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1);
            sockets.bind(fd, lingering.remote());
            try {
                sockets.connect(fd, lingering.local());
            } catch (SyscallException e) {
                if (e.errno() != Net.EINPROGRESS) {
                    return true;
                }
            }
            sockets.poll(new int[] {fd}, new int[] {Net.POLLIN}, RESET_MILLIS);
            return true;
        } catch (SyscallException e) {
            // The peer's port is taken again (it may end by itself), or its address is not here.
            return e.errno() != Net.EADDRNOTAVAIL;
        } finally {
            sockets.close(fd);
        }
    }
}
