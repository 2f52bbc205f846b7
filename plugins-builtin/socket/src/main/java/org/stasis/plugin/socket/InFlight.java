package org.stasis.plugin.socket;

import java.io.IOException;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Finds descriptors in flight ({@code SCM_RIGHTS}) in a Unix socket's receive queue.
 * A peek with room for control messages hands the coordinator duplicates of them and
 * leaves the queue as it was; the duplicates are closed at once. A restart cannot
 * bring such descriptors back, so a checkpoint that finds some is refused.
 */
final class InFlight {
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int CONTROL = 4096;
    private static final int MSGHDR = 56;
    private static final int CMSGHDR = 16;

    private final LibC c;

    InFlight(LibC c) {
        this.c = c;
    }

    /** @return the calls bound to the process's C library */
    static InFlight load() {
        return new InFlight(Native.load("c", LibC.class));
    }

    /**
     * Peeks at the message or bytes at the socket's current peek offset.
     *
     * @param fd the coordinator's descriptor of a Unix socket
     * @param length how many bytes to peek at
     * @return the bytes peeked at and how many descriptors travel with them ({0, 0} at the end of the queue)
     */
    long[] descriptorsAt(int fd, int length) throws SyscallException {
        Memory data = new Memory(Math.max(1, length));
        Memory vector = new Memory(16);
        vector.setPointer(0, data);
        vector.setLong(8, data.size());
        Memory control = new Memory(CONTROL);
        control.clear();
        Memory message = new Memory(MSGHDR);
        message.clear();
        message.setPointer(16, vector);
        message.setLong(24, 1);
        message.setPointer(32, control);
        message.setLong(40, CONTROL);
        try {
            long n = c.recvmsg(fd, message, Net.MSG_PEEK | Net.MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
            return new long[] {Math.max(0, n), n < 0 ? 0 : closeAll(control, message.getLong(40))};
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Net.EAGAIN) {
                return new long[] {0, 0};
            }
            throw new SyscallException("recvmsg: " + e.getMessage() + " (errno " + e.getErrorCode() + ")",
                    e.getErrorCode(), e);
        }
    }

    // Walks the control messages; closes the descriptors they carried.
    private int closeAll(Pointer control, long length) {
        int count = 0;
        long offset = 0;
        while (offset + CMSGHDR <= length) {
            long size = control.getLong(offset);
            int level = control.getInt(offset + 8);
            int type = control.getInt(offset + 12);
            if (size < CMSGHDR) {
                break;
            }
            if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                for (long at = offset + CMSGHDR; at + 4 <= offset + size; at += 4) {
                    try {
                        c.close(control.getInt(at));
                    } catch (LastErrorException e) {
                        // Released either way.
                    }
                    count++;
                }
            }
            offset += (size + 7) & ~7L;
        }
        return count;
    }
}
