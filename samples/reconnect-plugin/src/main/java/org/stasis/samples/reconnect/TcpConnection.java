package org.stasis.samples.reconnect;

/**
 * What a program's TCP socket was at checkpoint time, as much as a new connection to
 * the same peer needs.
 *
 * @param domain {@link LibC#AF_INET} or {@link LibC#AF_INET6}: the new socket has the
 *        program's family, so what getsockname tells it keeps its shape
 * @param peer where it was connected
 * @param noDelay TCP_NODELAY, which request/response clients usually set
 * @param keepAlive SO_KEEPALIVE
 */
record TcpConnection(int domain, Endpoint peer, boolean noDelay, boolean keepAlive) {
    /** @return a short text for records and logs, read back by {@link #decode} */
    String encode() {
        return (domain == LibC.AF_INET6 ? "inet6" : "inet") + " " + peer + " nodelay=" + (noDelay ? 1 : 0)
                + " keepalive=" + (keepAlive ? 1 : 0);
    }

    /**
     * @param text what {@link #encode} wrote
     * @return the connection
     * @throws IllegalArgumentException if the text is damaged
     */
    static TcpConnection decode(String text) {
        String[] words = text.split(" ");
        if (words.length != 4 || !words[2].matches("nodelay=[01]") || !words[3].matches("keepalive=[01]")) {
            throw new IllegalArgumentException("damaged connection record '" + text + "'");
        }
        int domain = switch (words[0]) {
            case "inet" -> LibC.AF_INET;
            case "inet6" -> LibC.AF_INET6;
            default -> throw new IllegalArgumentException("damaged connection record '" + text + "'");
        };
        return new TcpConnection(domain, Endpoint.parse(words[1]), words[2].endsWith("1"), words[3].endsWith("1"));
    }
}
