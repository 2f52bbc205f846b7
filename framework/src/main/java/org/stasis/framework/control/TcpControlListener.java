package org.stasis.framework.control;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

import org.stasis.framework.dispatch.Diagnostics;

/**
 * The coordinator's optional TCP control listener ({@code stasis coordinator --listen
 * HOST:PORT}, doc/control-protocol.md). A connection must first send
 * {@code TOKEN <hex>\n} with the coordinator's secret; then it speaks the same protocol
 * as the Unix control socket. The {@link ConnectionHub} reads the token line and the
 * request; {@link TokenGate} checks the token and slows down guessing.
 */
final class TcpControlListener {
    private TcpControlListener() {
    }

    /**
     * Binds the address and says so on the log.
     *
     * @param address where to listen
     * @param token the secret every connection must present
     * @param diagnostics hears where the coordinator listens, and a warning if beyond this machine
     * @return the bound listening socket
     * @throws IOException if the address cannot be bound
     */
    static ServerSocketChannel bind(ListenAddress address, TokenFile token, Diagnostics diagnostics)
            throws IOException {
        InetSocketAddress bind = address.resolve();
        if (bind.isUnresolved()) {
            throw new IOException("unknown host '" + address.host() + "'");
        }
        ServerSocketChannel server = ServerSocketChannel.open(bind.getAddress() instanceof java.net.Inet6Address
                ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(bind, 512);
        } catch (IOException e) {
            server.close();
            throw e;
        }
        String described = describe(server);
        diagnostics.info(Diagnostics.COORDINATOR, "listen", "control over TCP on " + described
                + "; clients need the token in " + token.path());
        if (!bind.getAddress().isLoopbackAddress()) {
            diagnostics.warning(Diagnostics.COORDINATOR, "listen", described + " is reachable from other machines;"
                    + " the token in " + token.path() + " is its only protection (the connection is not encrypted)");
        }
        return server;
    }

    /** @return the bound address and port, e.g. {@code 127.0.0.1:7070} */
    static String describe(ServerSocketChannel server) throws IOException {
        InetSocketAddress local = (InetSocketAddress) server.getLocalAddress();
        return local.getAddress().getHostAddress() + ":" + local.getPort();
    }
}
