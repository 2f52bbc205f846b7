package org.stasis.framework.control;

import java.net.InetSocketAddress;

/**
 * The {@code HOST:PORT} of {@code stasis coordinator --listen}: a host name or
 * address ({@code [v6]} in brackets) and a port from 0 to 65535 (0: any free port).
 *
 * @param host the host, without brackets
 * @param port the port
 */
public record ListenAddress(String host, int port) {
    /**
     * @param text {@code HOST:PORT} or {@code [IPV6]:PORT}
     * @return the address
     * @throws IllegalArgumentException with a message saying what is wrong
     */
    public static ListenAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("--listen wants HOST:PORT (e.g. 127.0.0.1:7070), not '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("--listen: write an IPv6 address in brackets, e.g. [::1]:7070");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (host.isEmpty() || port < 0 || port > 65535) {
            throw new IllegalArgumentException("--listen wants HOST:PORT with a port from 0 to 65535, not '" + text + "'");
        }
        return new ListenAddress(host, port);
    }

    /** @return the socket address, resolving the host */
    InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }
}
