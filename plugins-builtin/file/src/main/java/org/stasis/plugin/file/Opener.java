package org.stasis.plugin.file;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * Opens a file in the coordinator's own process, to hand one open file description
 * to several restored descriptors ({@link org.stasis.api.FdSource.Passed}).
 */
final class Opener {
    private static final int O_CREAT = 0100;
    private static final int O_EXCL = 0200;
    private static final int O_NOCTTY = 0400;
    private static final int O_TRUNC = 01000;
    private static final int O_CLOEXEC = 02000000;
    private static final int ESPIPE = 29;
    private static final int O_RDWR = 02;
    private static final int O_TMPFILE = 020200000;
    private static final int O_NOFOLLOW = 0400000;
    private static final int O_NONBLOCK = 04000;

    /** The libc calls the JDK does not offer with a plain descriptor. */
    interface LibC extends Library {
        int open(String path, int flags) throws LastErrorException;

        int open(String path, int flags, int mode) throws LastErrorException;

        int mkfifo(String path, int mode) throws LastErrorException;

        long lseek(int fd, long offset, int whence) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int memfd_create(String name, int flags) throws LastErrorException;

        int fcntl(int fd, int cmd, int arg) throws LastErrorException;

        int fstatfs(int fd, byte[] buf) throws LastErrorException;

        long copy_file_range(int in, Pointer offIn, int out, Pointer offOut, long length, int flags)
                throws LastErrorException;

        int ioctl(int fd, long request, int source) throws LastErrorException;

        int ftruncate(int fd, long length) throws LastErrorException;
    }

    private static final long FICLONE = 0x40049409L;
    private static final int O_WRONLY = 01;

    private static final int MFD_CLOEXEC = 1;
    private static final int MFD_ALLOW_SEALING = 2;
    private static final int F_ADD_SEALS = 1033;
    private static final int F_GET_SEALS = 1034;
    private static final int EINVAL = 22;

    private final LibC libc = Native.load("c", LibC.class);

    /**
     * @param path the file
     * @param flags the program's flags; creating and truncating ones are dropped, as the
     *        restorer does (the file exists, and its contents must stay)
     * @param offset where the description's offset was
     * @return the descriptor (close-on-exec in the coordinator)
     * @throws IOException if the file cannot be opened
     */
    int open(String path, int flags, long offset) throws IOException {
        int fd;
        int keeper = fifoKeeper(path);
        try {
            fd = libc.open(path, (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | O_CLOEXEC
                    | (keeper >= 0 ? O_NONBLOCK : 0));
        } catch (LastErrorException e) {
            throw new IOException("cannot reopen " + path + ": " + e.getMessage(), e);
        } finally {
            if (keeper >= 0) {
                libc.close(keeper);
            }
        }
        try {
            libc.lseek(fd, offset, 0);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != ESPIPE) {
                libc.close(fd);
                throw new IOException("cannot seek " + path + " to " + offset + ": " + e.getMessage(), e);
            }
        }
        return fd;
    }

    /**
     * Recreates a file the program had deleted while it was open, as a file that never
     * has a name: an O_TMPFILE in {@code directory} (the deleted file's own directory
     * where it still exists and is writable, else the system's temporary directory)
     * holding {@code contents}. Nothing is left on disk, whether the restart goes on
     * or fails: the file lives exactly as long as its descriptors.
     *
     * @return a descriptor with the program's flags and offset (close-on-exec here)
     * @throws IOException if the copy cannot be made
     */
    int openUnnamedCopy(Path contents, Path directory, int flags, long offset) throws IOException {
        int scratch = tmpfile(directory);
        try {
            Path self = Path.of("/proc/self/fd/" + scratch);
            try (OutputStream out = Files.newOutputStream(self, StandardOpenOption.WRITE)) {
                Files.copy(contents, out);
            }
            // A second description with the program's own access mode and offset;
            // O_NOFOLLOW (Python's tempfile sets it) would refuse the /proc link itself.
            return open(self.toString(), flags & ~O_NOFOLLOW, offset);
        } finally {
            libc.close(scratch);
        }
    }

    /**
     * Makes {@code target} hold exactly what {@code source} holds: a reflink where the
     * file system shares blocks (btrfs, XFS), else copy_file_range (in the kernel, no
     * copy through this process where it can), else an ordinary copy. The target keeps
     * its inode: whoever has it open or mapped sees the new contents.
     *
     * @param source the file to copy (opened read-only)
     * @param target the file to overwrite, created with {@code mode} if it does not exist
     * @param mode permission bits for a new target
     * @return the bytes copied
     * @throws IOException if either cannot be opened or the copy fails
     */
    long copyContents(Path source, Path target, int mode) throws IOException {
        int in = openOrFail(source, O_CLOEXEC, 0);
        try {
            int out = openOrFail(target, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
            try {
                long size = Files.size(Path.of("/proc/self/fd/" + in));
                libc.ftruncate(out, 0);
                if (!reflink(in, out)) {
                    copyRange(in, out, size, source, target);
                }
                libc.ftruncate(out, size);
                return size;
            } catch (LastErrorException e) {
                throw new IOException("cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
            } finally {
                libc.close(out);
            }
        } finally {
            libc.close(in);
        }
    }

    private int openOrFail(Path path, int flags, int mode) throws IOException {
        try {
            return libc.open(path.toString(), flags, mode);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    private boolean reflink(int in, int out) {
        try {
            libc.ioctl(out, FICLONE, in);
            return true;
        } catch (LastErrorException e) {
            return false;      // not on this file system, or across file systems
        }
    }

    private void copyRange(int in, int out, long size, Path source, Path target) throws IOException {
        long done = 0;
        try {
            while (done < size) {
                long n = libc.copy_file_range(in, null, out, null, size - done, 0);
                if (n == 0) {
                    return;       // the source is shorter than it was: ftruncate sets the size
                }
                done += n;
            }
        } catch (LastErrorException e) {
            if (done != 0) {
                throw new IOException("cannot copy " + source + " to " + target + ": " + e.getMessage(), e);
            }
            // EXDEV, EINVAL, ENOSYS on older kernels or special file systems: copy by hand.
            try (var from = Files.newInputStream(Path.of("/proc/self/fd/" + in));
                    var to = Files.newOutputStream(Path.of("/proc/self/fd/" + out), StandardOpenOption.WRITE)) {
                from.transferTo(to);
            }
        }
    }

    /** Closes a descriptor this opener made that was not handed over. */
    void close(int fd) {
        libc.close(fd);
    }

    private int tmpfile(Path directory) throws IOException {
        for (Path dir : new Path[] { directory, Path.of(System.getProperty("java.io.tmpdir", "/tmp")) }) {
            if (dir == null) {
                continue;
            }
            try {
                return libc.open(dir.toString(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
            } catch (LastErrorException e) {
                // not writable, gone, or no O_TMPFILE on that file system: try the next
            }
        }
        throw new IOException("cannot create an unnamed file for a deleted file's copy in " + directory
                + " nor in the temporary directory");
    }

    // Opening a FIFO blocks until the other side is there (write-only without a reader
    // even fails with O_NONBLOCK): a keeper open for reading and writing is both sides
    // for the time of the real open, which then does not block (and the descriptor is
    // opened O_NONBLOCK; FdSource.Passed sets the program's O_NONBLOCK state on it).
    private int fifoKeeper(String path) {
        try {
            if (!Fifos.isFifo(Path.of(path))) {
                return -1;
            }
            return libc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        } catch (IOException | LastErrorException e) {
            return -1;     // not there or not ours: the real open says what is wrong
        }
    }

    /**
     * Makes a FIFO.
     *
     * @param path where
     * @throws IOException if it cannot be made
     */
    void makeFifo(Path path) throws IOException {
        try {
            libc.mkfifo(path.toString(), 0600);
        } catch (LastErrorException e) {
            throw new IOException("cannot make FIFO " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param fd a descriptor of a memory file (a duplicate of the program's)
     * @return its seals (F_SEAL_*), F_SEAL_SEAL if it was made without sealing
     * @throws IOException if the kernel cannot tell
     */
    int seals(int fd) throws IOException {
        try {
            return libc.fcntl(fd, F_GET_SEALS, 0);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EINVAL) {
                return 1;   // not a memory file after all (hugetlbfs?): nothing can seal it
            }
            throw new IOException("cannot read the seals of a memory file: " + e.getMessage(), e);
        }
    }

    /**
     * @param name the memory file's name (as memfd_create got it)
     * @param content a file with its content
     * @return a new memory file (close-on-exec here) holding that content, sealable
     * @throws IOException if it cannot be made
     */
    int memfd(String name, Path content) throws IOException {
        int fd;
        try {
            fd = libc.memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        } catch (LastErrorException e) {
            throw new IOException("cannot create memory file " + name + ": " + e.getMessage(), e);
        }
        try {
            try (OutputStream out = Files.newOutputStream(Path.of("/proc/self/fd/" + fd), StandardOpenOption.WRITE)) {
                Files.copy(content, out);
            }
        } catch (IOException e) {
            libc.close(fd);
            throw new IOException("cannot fill memory file " + name + ": " + e.getMessage(), e);
        }
        return fd;
    }

    /** @return fd, its offset set */
    int seek(int fd, long offset) throws IOException {
        try {
            libc.lseek(fd, offset, 0);
            return fd;
        } catch (LastErrorException e) {
            throw new IOException("cannot seek a memory file to " + offset + ": " + e.getMessage(), e);
        }
    }

    /** @return a new open file description of fd's file, with the program's flags and offset */
    int reopen(int fd, int flags, long offset) throws IOException {
        return open("/proc/self/fd/" + fd, flags, offset);
    }

    /** Adds seals to a memory file. */
    void seal(int fd, int seals) throws IOException {
        if (seals == 0) {
            return;
        }
        try {
            libc.fcntl(fd, F_ADD_SEALS, seals);
        } catch (LastErrorException e) {
            throw new IOException("cannot seal a memory file (" + seals + "): " + e.getMessage(), e);
        }
    }

    /**
     * @param fd a descriptor
     * @return the f_type (magic number) of the file system it is on
     * @throws IOException if the kernel cannot tell
     */
    long fileSystem(int fd) throws IOException {
        byte[] statfs = new byte[120];
        try {
            libc.fstatfs(fd, statfs);
        } catch (LastErrorException e) {
            throw new IOException("cannot tell the file system of a descriptor: " + e.getMessage(), e);
        }
        return java.nio.ByteBuffer.wrap(statfs).order(java.nio.ByteOrder.nativeOrder()).getLong(0);
    }
}
