package org.stasis.samples.reconnect;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * An IP address and a TCP port, written {@code 127.0.0.1:5432} or {@code [::1]:5432}.
 * Only address literals are accepted: a checkpoint must not wait on name resolution,
 * and a name could resolve to another address at restart than the one the program
 * was connected to.
 *
 * @param address the address; IPv4-mapped IPv6 addresses are kept as IPv4, so a
 *        program's {@code ::ffff:127.0.0.1} matches a configured {@code 127.0.0.1}
 * @param port the port, 1 to 65535
 */
record Endpoint(InetAddress address, int port) {
    Endpoint {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not between 1 and 65535");
        }
    }

    /**
     * @param text {@code a.b.c.d:port} or {@code [ipv6]:port}
     * @return the endpoint
     * @throws IllegalArgumentException if the text is not an address literal and a port
     */
    static Endpoint parse(String text) {
        String trimmed = text.strip();
        int colon = trimmed.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        String host = trimmed.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(trimmed.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' has no port number");
        }
        return new Endpoint(literal(host, text), port);
    }

    private static InetAddress literal(String host, String text) {
        if (host.startsWith("[") && host.endsWith("]") && host.contains(":")) {
            try {
                // With a ':' inside, the JDK parses the literal and never asks a resolver.
                return InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("'" + text + "' has an invalid IPv6 address");
            }
        }
        if (host.contains(":")) {
            throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, as [::1]:5432");
        }
        return ipv4(host, text);
    }

    // Parsed by hand: the JDK would send a malformed dotted quad to the resolver.
    private static InetAddress ipv4(String host, String text) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address literal (names are not resolved)");
        }
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (!parts[i].matches("[0-9]{1,3}") || Integer.parseInt(parts[i]) > 255) {
                throw new IllegalArgumentException("'" + text + "' is not an IP address literal (names are not resolved)");
            }
            bytes[i] = (byte) Integer.parseInt(parts[i]);
        }
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }

    /** @return the address as the JDK's socket address, e.g. for a test server */
    InetSocketAddress socketAddress() {
        return new InetSocketAddress(address, port);
    }

    /** @return the text {@link #parse} reads back */
    @Override
    public String toString() {
        String host = address.getHostAddress();
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }
}
