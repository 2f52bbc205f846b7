package org.stasis.plugin.socket;

/**
 * How a socket relates to the other sockets of the computation, which decides how a
 * restart recreates it.
 *
 * @param kind the relation
 * @param other the other socket's inode (the peer of a pair, the target of a
 *        one-way datagram connection, the listener a client waits in, the peer in
 *        another part), else 0
 * @param listener for a pair: the listening socket of the computation that accepted
 *        it (a restart connects and accepts through it so both ends keep their
 *        names); for a link between parts: this part's listener that accepted this
 *        end; else 0
 */
record Link(Kind kind, long other, long listener) {
    /** The relations. */
    enum Kind {
        /** Not connected (or UDP, which reconnects by address): recreated on its own. */
        ALONE,
        /** Connected to another socket of the computation (both directions). */
        PAIR,
        /** A client that connected to a listener of the computation, not accepted yet. */
        WAITING,
        /** A Unix datagram socket connected one way to a named socket of the computation. */
        TO,
        /** Connected to a peer outside the computation, or to one that is gone. */
        OUTSIDE,
        /** A TCP connection to a socket of another part of the computation (another host). */
        BETWEEN
    }

    static final Link ALONE = new Link(Kind.ALONE, 0, 0);
    static final Link OUTSIDE = new Link(Kind.OUTSIDE, 0, 0);

    /** @return the record text, e.g. {@code pair 1234 0} */
    String encode() {
        return kind.name().toLowerCase() + " " + other + " " + listener;
    }

    /** @return the link {@link #encode} wrote */
    static Link decode(String text) {
        String[] parts = text.trim().split(" ");
        return new Link(Kind.valueOf(parts[0].toUpperCase()), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
    }
}
