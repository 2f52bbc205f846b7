package org.stasis.plugin.socket;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * What the plugin knows of one socket at checkpoint time: enough to recreate it.
 *
 * @param inode the socket's inode ({@code socket:[inode]}), its identity in the checkpoint
 * @param family AF_UNIX, AF_INET or AF_INET6
 * @param type SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
 * @param protocol the protocol (IPPROTO_TCP, IPPROTO_UDP, 0)
 * @param state the kernel's state (TCP states; Unix sockets use the same numbers)
 * @param shutdown the kernel's shutdown bits ({@link Net#RCV_SHUTDOWN}, {@link Net#SEND_SHUTDOWN})
 * @param backlog the listen backlog of a listening socket, else 0
 * @param local the socket's own address ({@link Address#NONE} if it has none)
 * @param peer the connected peer's address ({@link Address#NONE} if not connected)
 * @param peerInode a Unix socket's peer, by inode (0 if none or gone)
 * @param waiting a Unix listener's clients that were not accepted yet, by inode
 * @param options the options whose value differs from a new socket's
 */
record SocketDescription(long inode, int family, int type, int protocol, int state, int shutdown, int backlog,
        Address local, Address peer, long peerInode, long[] waiting, Map<SocketOption, long[]> options) {

    SocketDescription {
        waiting = waiting.clone();
        options = copy(options);
    }

    private static Map<SocketOption, long[]> copy(Map<SocketOption, long[]> options) {
        Map<SocketOption, long[]> copy = new EnumMap<>(SocketOption.class);
        options.forEach((option, value) -> copy.put(option, value.clone()));
        return copy;
    }

    @Override
    public long[] waiting() {
        return waiting.clone();
    }

    @Override
    public Map<SocketOption, long[]> options() {
        return copy(options);
    }

    boolean isUnix() {
        return family == Net.AF_UNIX;
    }

    boolean isIp() {
        return family == Net.AF_INET || family == Net.AF_INET6;
    }

    boolean isTcp() {
        return isIp() && type == Net.SOCK_STREAM && protocol == Net.IPPROTO_TCP;
    }

    boolean isUdp() {
        return isIp() && type == Net.SOCK_DGRAM && protocol == Net.IPPROTO_UDP;
    }

    /**
     * @return whether the plugin restores this kind of socket (Unix, TCP, UDP); others
     *         (netlink, raw, packet, ...) come back new and unbound
     */
    boolean supported() {
        return isUnix() && (type == Net.SOCK_STREAM || type == Net.SOCK_DGRAM || type == Net.SOCK_SEQPACKET)
                || isTcp() || isUdp();
    }

    boolean listening() {
        return state == Net.TCP_LISTEN;
    }

    /** @return whether connections to {@code address} reach this socket when it listens (IPV6_V6ONLY counts) */
    boolean takes(Address address) {
        return local.accepts(address, v6only());
    }

    /** @return whether the program set IPV6_V6ONLY on it */
    boolean v6only() {
        long[] v6only = options.get(SocketOption.V6ONLY);
        return v6only != null && v6only.length > 0 && v6only[0] != 0;
    }

    /** @return whether data arrives as a byte stream (else as messages with boundaries) */
    boolean isStream() {
        return type == Net.SOCK_STREAM;
    }

    /**
     * @return whether the socket is, or was, connected to a peer (a Unix socket whose
     *         peer is gone still names it; the kernel's state is no guide: Linux marks
     *         a datagram socket that another connected to as established too)
     */
    boolean connected() {
        return !peer.equals(Address.NONE) || peerInode != 0;
    }

    /** @return a short name for messages, e.g. {@code tcp 127.0.0.1:40000 -> 127.0.0.1:8000} */
    String describe() {
        String kind = isUnix() ? "unix " + Net.typeName(type) : isTcp() ? "tcp" : isUdp() ? "udp"
                : Net.familyName(family) + " " + Net.typeName(type) + " protocol " + protocol;
        String where = listening() ? " listening on " + local : " " + local + (connected() ? " -> " + peer : "");
        return kind + where + " (socket:[" + inode + "])";
    }

    /** @return the record text: space-separated key=value fields */
    String encode() {
        StringJoiner text = new StringJoiner(" ");
        text.add("family=" + family).add("type=" + type).add("protocol=" + protocol).add("state=" + state)
                .add("shutdown=" + shutdown).add("backlog=" + backlog)
                .add("local=" + addressText(local)).add("peer=" + addressText(peer)).add("peer-inode=" + peerInode);
        if (waiting.length > 0) {
            StringJoiner list = new StringJoiner(",");
            Arrays.stream(waiting).forEach(i -> list.add(Long.toString(i)));
            text.add("waiting=" + list);
        }
        options.forEach((option, value) -> text.add("option." + option.key() + "=" + SocketOption.encode(value)));
        return text.toString();
    }

    /**
     * @param inode the socket's inode (the record's key)
     * @param text what {@link #encode} wrote
     * @return the description
     */
    static SocketDescription decode(long inode, String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String field : text.trim().split(" +")) {
            int eq = field.indexOf('=');
            fields.put(field.substring(0, eq), field.substring(eq + 1));
        }
        Map<SocketOption, long[]> options = new EnumMap<>(SocketOption.class);
        fields.forEach((key, value) -> {
            if (key.startsWith("option.")) {
                options.put(SocketOption.ofKey(key.substring("option.".length())), SocketOption.decode(value));
            }
        });
        String waiting = fields.getOrDefault("waiting", "");
        return new SocketDescription(inode, number(fields, "family"), number(fields, "type"),
                number(fields, "protocol"), number(fields, "state"), number(fields, "shutdown"),
                number(fields, "backlog"), addressOf(fields.get("local")), addressOf(fields.get("peer")),
                Long.parseLong(fields.getOrDefault("peer-inode", "0")),
                waiting.isEmpty() ? new long[0] : Arrays.stream(waiting.split(",")).mapToLong(Long::parseLong).toArray(),
                options);
    }

    private static int number(Map<String, String> fields, String key) {
        String value = fields.get(key);
        if (value == null) {
            throw new IllegalArgumentException("socket record lacks " + key);
        }
        return Integer.parseInt(value);
    }

    private static String addressText(Address address) {
        return address.equals(Address.NONE) ? "-" : address.hex();
    }

    private static Address addressOf(String text) {
        return text == null || text.equals("-") ? Address.NONE : Address.fromHex(text);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SocketDescription d && encode().equals(d.encode()) && inode == d.inode;
    }

    @Override
    public int hashCode() {
        return encode().hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }
}
