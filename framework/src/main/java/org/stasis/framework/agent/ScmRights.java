package org.stasis.framework.agent;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * Bytes with descriptors attached (SCM_RIGHTS) on a Unix stream socket: how the
 * coordinator and an agent hand each other descriptors. The layouts are those of
 * struct msghdr, iovec and cmsghdr on x86-64 Linux.
 */
final class ScmRights {
    private static final int MSGHDR_SIZE = 56;
    private static final int CMSG_HEADER = 16;
    private static final int CONTROL_SIZE = 256;   // room for 56 descriptors in one message

    /** What one recvmsg brought: the byte count (0 = end of stream) and any descriptors. */
    record Received(int count, List<Integer> fds) {
    }

    private ScmRights() {
    }

    /**
     * Sends bytes with one descriptor attached to them.
     *
     * @param socket a connected Unix stream socket
     * @param data the bytes (the kernel may take only a first part; the caller sends the rest)
     * @param fd the descriptor to pass
     * @return how many bytes were sent
     */
    static long send(int socket, byte[] data, int fd) {
        Memory payload = new Memory(data.length);
        payload.write(0, data, 0, data.length);
        Memory control = new Memory(CMSG_HEADER + 8);
        control.clear();
        control.setLong(0, CMSG_HEADER + 4);
        control.setInt(8, LibC.SOL_SOCKET);
        control.setInt(12, LibC.SOL_SOCKET_RIGHTS);
        control.setInt(16, fd);
        Memory iov = iov(payload, data.length);
        Memory message = header(iov, control, CMSG_HEADER + 8);
        try {
            return LibC.INSTANCE.sendmsg(socket, message, LibC.MSG_NOSIGNAL);
        } finally {
            // The header points into these: keep them alive until the call returned.
            Reference.reachabilityFence(payload);
            Reference.reachabilityFence(iov);
            Reference.reachabilityFence(control);
        }
    }

    /**
     * Receives bytes and whatever descriptors came with them (close-on-exec in the
     * coordinator, so no child inherits them).
     *
     * @param socket a connected Unix stream socket
     * @param into where the bytes go
     * @return the byte count and the descriptors
     */
    static Received receive(int socket, byte[] into) {
        Memory payload = new Memory(into.length);
        Memory control = new Memory(CONTROL_SIZE);
        control.clear();
        Memory iov = iov(payload, into.length);
        Memory message = header(iov, control, CONTROL_SIZE);
        long n;
        try {
            n = LibC.INSTANCE.recvmsg(socket, message, LibC.MSG_CMSG_CLOEXEC);
        } finally {
            Reference.reachabilityFence(iov);
        }
        if (n > 0) {
            payload.read(0, into, 0, (int) n);
        }
        return new Received((int) Math.max(n, 0), descriptors(control, message.getLong(40)));
    }

    private static Memory iov(Memory payload, int length) {
        Memory iov = new Memory(16);
        iov.setPointer(0, payload);
        iov.setLong(8, length);
        return iov;
    }

    private static Memory header(Memory iov, Memory control, int controlLength) {
        Memory message = new Memory(MSGHDR_SIZE);
        message.clear();
        message.setPointer(16, iov);
        message.setLong(24, 1);
        message.setPointer(32, control);
        message.setLong(40, controlLength);
        return message;
    }

    private static List<Integer> descriptors(Pointer control, long length) {
        List<Integer> fds = new ArrayList<>();
        long at = 0;
        while (at + CMSG_HEADER <= length) {
            long cmsgLength = control.getLong(at);
            if (cmsgLength < CMSG_HEADER) {
                break;
            }
            if (control.getInt(at + 8) == LibC.SOL_SOCKET && control.getInt(at + 12) == LibC.SOL_SOCKET_RIGHTS) {
                for (long d = CMSG_HEADER; d + 4 <= cmsgLength; d += 4) {
                    fds.add(control.getInt(at + d));
                }
            }
            at += (cmsgLength + 7) & ~7L;
        }
        return fds;
    }
}
