package org.stasis.plugin.socket;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A socket address as the kernel hands it out ({@code struct sockaddr} bytes, as
 * getsockname fills them), so that any family can be given back to bind or connect
 * unchanged. An empty address means "none" (not bound, not connected).
 *
 * @param raw the sockaddr bytes, exactly as long as the kernel reported
 */
record Address(byte[] raw) {
    /** No address: the socket is not bound, or not connected. */
    static final Address NONE = new Address(new byte[0]);

    private static final int UNIX_PATH_MAX = 108;
    private static final int IN_SIZE = 16;
    private static final int IN6_SIZE = 28;

    Address {
        raw = raw.clone();
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }

    /** @return the address family, 0 for {@link #NONE} */
    int family() {
        return raw.length < 2 ? 0 : ByteBuffer.wrap(raw, 0, 2).order(ByteOrder.nativeOrder()).getShort() & 0xffff;
    }

    /** @return the sockaddr length to pass to bind/connect */
    int length() {
        return raw.length;
    }

    /** @return whether this names nothing (no address, an unnamed Unix socket, or port 0 on any address) */
    boolean isUnnamed() {
        return switch (family()) {
            case Net.AF_UNIX -> raw.length <= 2;
            case Net.AF_INET, Net.AF_INET6 -> port() == 0 && isWildcard();
            default -> raw.length == 0;
        };
    }

    // ---- Unix ----

    /** @return whether this is a Unix name in the abstract namespace (starts with NUL) */
    boolean isAbstract() {
        return family() == Net.AF_UNIX && raw.length > 2 && raw[2] == 0;
    }

    /** @return a Unix path name (not abstract) */
    boolean isPath() {
        return family() == Net.AF_UNIX && raw.length > 2 && raw[2] != 0;
    }

    /** @return the bytes of a Unix name: the path without its NUL, or the abstract name without its leading NUL */
    byte[] unixName() {
        if (raw.length <= 2) {
            return new byte[0];
        }
        if (raw[2] == 0) {
            return Arrays.copyOfRange(raw, 3, raw.length);
        }
        int end = 2;
        while (end < raw.length && raw[end] != 0) {
            end++;
        }
        return Arrays.copyOfRange(raw, 2, end);
    }

    /** @return the path of a Unix path name */
    String path() {
        return new String(unixName(), StandardCharsets.UTF_8);
    }

    /**
     * @param path a file system path
     * @return the Unix address of that path
     */
    static Address unixPath(String path) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= UNIX_PATH_MAX) {
            throw new IllegalArgumentException("Unix socket path longer than " + (UNIX_PATH_MAX - 1) + " bytes: " + path);
        }
        ByteBuffer b = ByteBuffer.allocate(2 + name.length + 1).order(ByteOrder.nativeOrder());
        b.putShort((short) Net.AF_UNIX).put(name).put((byte) 0);
        return new Address(b.array());
    }

    /**
     * @param name an abstract name, without the leading NUL
     * @return the Unix address of that abstract name
     */
    static Address unixAbstract(byte[] name) {
        ByteBuffer b = ByteBuffer.allocate(3 + name.length).order(ByteOrder.nativeOrder());
        b.putShort((short) Net.AF_UNIX).put((byte) 0).put(name);
        return new Address(b.array());
    }

    // ---- IPv4 / IPv6 ----

    /** @return the port of an IPv4 or IPv6 address */
    int port() {
        return raw.length < 4 ? 0 : ((raw[2] & 0xff) << 8) | (raw[3] & 0xff);
    }

    /** @return the IP address bytes (4 or 16) */
    byte[] ip() {
        return switch (family()) {
            case Net.AF_INET -> Arrays.copyOfRange(raw, 4, 8);
            case Net.AF_INET6 -> Arrays.copyOfRange(raw, 8, 24);
            default -> new byte[0];
        };
    }

    /** @return the IP with an IPv4-mapped IPv6 address reduced to its IPv4 form, so both ends compare equal */
    private byte[] canonicalIp() {
        byte[] ip = ip();
        if (ip.length == 16 && isV4Mapped(ip)) {
            return Arrays.copyOfRange(ip, 12, 16);
        }
        return ip;
    }

    private static boolean isV4Mapped(byte[] ip) {
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }

    /** @return whether the IP is the any-address (0.0.0.0 or ::) */
    boolean isWildcard() {
        for (byte b : ip()) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param other an address the socket was asked to reach
     * @return whether a socket bound to this address receives what is sent to {@code other}
     *         (same address and port, or this is the any-address on that port)
     */
    boolean accepts(Address other) {
        if (family() == Net.AF_UNIX || other.family() == Net.AF_UNIX) {
            return key().equals(other.key());
        }
        if (port() != other.port()) {
            return false;
        }
        if (isWildcard()) {
            // An IPv4 socket on the any-address does not receive IPv6; a dual-stack IPv6 one does both.
            return family() == Net.AF_INET6 || other.canonicalIp().length == 4;
        }
        return Arrays.equals(canonicalIp(), other.canonicalIp());
    }

    /**
     * @param other an address the socket was asked to reach
     * @param v6only whether the socket has IPV6_V6ONLY set
     * @return like {@link #accepts(Address)}, except that an IPv6 socket with IPV6_V6ONLY
     *         receives no IPv4 (Open MPI listens on the same port number with an IPv4 socket
     *         of one process and a V6ONLY IPv6 socket of another)
     */
    boolean accepts(Address other, boolean v6only) {
        return accepts(other) && !(v6only && family() == Net.AF_INET6 && other.canonicalIp().length == 4);
    }

    /** @return whether this is a loopback address (127.0.0.0/8, ::1), reachable only from its own host */
    boolean isLoopback() {
        if (family() != Net.AF_INET && family() != Net.AF_INET6) {
            return false;
        }
        byte[] ip = canonicalIp();
        return ip.length == 4 ? ip[0] == 127 : Arrays.equals(ip, loopback(Net.AF_INET6, 0).ip());
    }

    /** @return the same address with another port (IPv4/IPv6) */
    Address withPort(int port) {
        byte[] copy = raw.clone();
        copy[2] = (byte) (port >> 8);
        copy[3] = (byte) port;
        return new Address(copy);
    }

    /**
     * @param family AF_INET or AF_INET6
     * @param ip 4 or 16 address bytes
     * @param port the port
     * @return the address
     */
    static Address inet(int family, byte[] ip, int port) {
        ByteBuffer b = ByteBuffer.allocate(family == Net.AF_INET ? IN_SIZE : IN6_SIZE).order(ByteOrder.nativeOrder());
        b.putShort((short) family);
        b.order(ByteOrder.BIG_ENDIAN).putShort((short) port);
        if (family == Net.AF_INET6) {
            b.putInt(0);
        }
        b.put(ip);
        return new Address(b.array());
    }

    /** @return the wildcard address of the family (0.0.0.0 or ::: every address of the host) with the given port */
    static Address wildcard(int family, int port) {
        return inet(family, new byte[family == Net.AF_INET ? 4 : 16], port);
    }

    /** @return the loopback address of the family (127.0.0.1 or ::1) with the given port */
    static Address loopback(int family, int port) {
        byte[] ip = new byte[family == Net.AF_INET ? 4 : 16];
        if (family == Net.AF_INET) {
            ip[0] = 127;
            ip[3] = 1;
        } else {
            ip[15] = 1;
        }
        return inet(family, ip, port);
    }

    /** @return this address with a wildcard IP replaced by loopback (where to connect to reach a socket bound to it) */
    Address reachable() {
        return isWildcard() ? loopback(family(), port()) : this;
    }

    /**
     * @param senderFamily the family of the socket that sends
     * @return where a socket of that family sends to reach a socket bound to this address
     *         (IPv4 and IPv4-mapped IPv6 forms are interchanged as needed)
     */
    Address reachableFrom(int senderFamily) {
        if (isWildcard()) {
            return loopback(senderFamily, port());
        }
        if (senderFamily == family()) {
            return this;
        }
        byte[] ip = canonicalIp();
        if (ip.length != 4) {
            return this;
        }
        if (senderFamily == Net.AF_INET) {
            return inet(Net.AF_INET, ip, port());
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(ip, 0, mapped, 12, 4);
        return inet(Net.AF_INET6, mapped, port());
    }

    // ---- identity and text ----

    /** @return a canonical text that is equal for addresses that name the same endpoint */
    String key() {
        return switch (family()) {
            case Net.AF_UNIX -> isAbstract() ? "unix:@" + HexFormat.of().formatHex(unixName()) : "unix:" + path();
            case Net.AF_INET, Net.AF_INET6 -> "ip:" + HexFormat.of().formatHex(canonicalIp()) + ":" + port();
            default -> "raw:" + hex();
        };
    }

    /** @return the raw bytes in hex, for the checkpoint's records */
    String hex() {
        return HexFormat.of().formatHex(raw);
    }

    /** @return the address the hex text holds */
    static Address fromHex(String hex) {
        return new Address(HexFormat.of().parseHex(hex));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Address a && Arrays.equals(raw, a.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        switch (family()) {
            case 0:
                return "(none)";
            case Net.AF_UNIX:
                if (raw.length <= 2) {
                    return "(unnamed)";
                }
                return isAbstract() ? "@" + new String(unixName(), StandardCharsets.UTF_8).replace("\0", "@") : path();
            case Net.AF_INET:
            case Net.AF_INET6:
                try {
                    String host = InetAddress.getByAddress(ip()).getHostAddress();
                    return (family() == Net.AF_INET6 ? "[" + host + "]" : host) + ":" + port();
                } catch (UnknownHostException e) {
                    return hex();
                }
            default:
                return hex();
        }
    }
}
