package org.stasis.samples.reconnect;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The kernel's struct sockaddr_in and sockaddr_in6, to and from {@link Endpoint}. The
 * family field is in the machine's byte order, the port in network order.
 */
final class SocketAddresses {
    static final int IPV4_SIZE = 16;
    static final int IPV6_SIZE = 28;

    private SocketAddresses() {
    }

    /**
     * @param raw what getpeername filled in
     * @param length the length it reported
     * @return the endpoint
     * @throws IllegalArgumentException if it is not an IPv4 or IPv6 address
     */
    static Endpoint decode(byte[] raw, int length) {
        ByteBuffer buffer = ByteBuffer.wrap(raw, 0, length);
        int family = buffer.order(ByteOrder.nativeOrder()).getShort(0);
        int port = Short.toUnsignedInt(buffer.order(ByteOrder.BIG_ENDIAN).getShort(2));
        try {
            if (family == LibC.AF_INET && length >= IPV4_SIZE) {
                return new Endpoint(InetAddress.getByAddress(Arrays.copyOfRange(raw, 4, 8)), port);
            }
            if (family == LibC.AF_INET6 && length >= IPV6_SIZE) {
                byte[] address = Arrays.copyOfRange(raw, 8, 24);
                int scope = buffer.order(ByteOrder.nativeOrder()).getInt(24);
                // Without a scope, getByAddress turns an IPv4-mapped address into IPv4.
                return new Endpoint(scope == 0 ? InetAddress.getByAddress(address)
                        : Inet6Address.getByAddress(null, address, scope), port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address length", e);
        }
        throw new IllegalArgumentException("not an IP socket address (family " + family + ")");
    }

    /**
     * @param domain the socket's domain, {@link LibC#AF_INET} or {@link LibC#AF_INET6}
     * @param endpoint where to connect; an IPv4 address on an IPv6 socket is written
     *        IPv4-mapped, as the program's own connect had it
     * @return the struct, ready for connect
     */
    static byte[] encode(int domain, Endpoint endpoint) {
        InetAddress address = endpoint.address();
        if (domain == LibC.AF_INET) {
            if (!(address instanceof Inet4Address)) {
                throw new IllegalArgumentException("an IPv4 socket cannot reach " + endpoint);
            }
            ByteBuffer buffer = header(IPV4_SIZE, domain, endpoint.port());
            buffer.put(4, address.getAddress());
            return buffer.array();
        }
        if (domain == LibC.AF_INET6) {
            ByteBuffer buffer = header(IPV6_SIZE, domain, endpoint.port());
            buffer.put(8, address instanceof Inet4Address ? mapped(address.getAddress()) : address.getAddress());
            int scope = address instanceof Inet6Address v6 ? v6.getScopeId() : 0;
            buffer.order(ByteOrder.nativeOrder()).putInt(24, scope);
            return buffer.array();
        }
        throw new IllegalArgumentException("not an IP socket domain: " + domain);
    }

    private static ByteBuffer header(int size, int family, int port) {
        ByteBuffer buffer = ByteBuffer.allocate(size);
        buffer.order(ByteOrder.nativeOrder()).putShort(0, (short) family);
        buffer.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) port);
        return buffer;
    }

    private static byte[] mapped(byte[] ipv4) {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xff;
        bytes[11] = (byte) 0xff;
        System.arraycopy(ipv4, 0, bytes, 12, 4);
        return bytes;
    }
}
