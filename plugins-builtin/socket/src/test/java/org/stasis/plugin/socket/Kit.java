package org.stasis.plugin.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Real sockets for tests, closed at the end. */
final class Kit implements AutoCloseable {
    final Sockets s = Sockets.load();
    private final List<Integer> open = new ArrayList<>();

    int track(int fd) {
        open.add(fd);
        return fd;
    }

    void forget(int fd) {
        open.remove(Integer.valueOf(fd));
    }

    void close(int fd) {
        forget(fd);
        s.close(fd);
    }

    int socket(int family, int type) throws IOException {
        return track(s.socket(family, type, 0));
    }

    int tcpListener(int family) throws IOException {
        int fd = socket(family, Net.SOCK_STREAM);
        s.bind(fd, Address.loopback(family, 0));
        s.listen(fd, 16);
        return fd;
    }

    /** @return {client, server} of a loopback TCP connection through {@code listener} */
    int[] tcpConnect(int listener, int family) throws IOException {
        int client = socket(family, Net.SOCK_STREAM);
        s.connect(client, s.localAddress(listener));
        int server = track(s.accept(listener));
        return new int[] {client, server};
    }

    int[] unixPair(int type) throws IOException {
        int[] ends = s.pair(type);
        track(ends[0]);
        track(ends[1]);
        return ends;
    }

    /** Sends all of {@code data} (nobody must have to read for it to fit). */
    void write(int fd, byte[] data) throws IOException {
        int offset = 0;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (offset < data.length) {
            int n = s.send(fd, data, offset, data.length - offset, null);
            if (n > 0) {
                offset += n;
            } else if (System.nanoTime() > deadline) {
                throw new IOException("could not send " + (data.length - offset) + " more bytes");
            } else {
                s.poll(new int[] {fd}, new int[] {Net.POLLOUT}, 50);
            }
        }
    }

    /** Reads exactly {@code n} bytes, waiting up to 5 s. */
    byte[] read(int fd, int n) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] chunk = new byte[1 << 16];
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (out.size() < n) {
            byte[] buffer = out.size() + chunk.length > n ? new byte[n - out.size()] : chunk;
            int got = s.receive(fd, buffer, 0, null, null);
            if (got > 0) {
                out.write(buffer, 0, got);
            } else if (got == 0) {
                throw new IOException("end of stream after " + out.size() + " of " + n + " bytes");
            } else if (System.nanoTime() > deadline) {
                throw new IOException("only " + out.size() + " of " + n + " bytes arrived");
            } else {
                s.poll(new int[] {fd}, new int[] {Net.POLLIN}, 50);
            }
        }
        return out.toByteArray();
    }

    /** @return one datagram, waiting up to 2 s, or null */
    byte[] message(int fd) throws IOException {
        byte[] buffer = new byte[1 << 16];
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (true) {
            int got = s.receive(fd, buffer, 0, null, null);
            if (got >= 0) {
                return Arrays.copyOf(buffer, got);
            }
            if (System.nanoTime() > deadline) {
                return null;
            }
            s.poll(new int[] {fd}, new int[] {Net.POLLIN}, 50);
        }
    }

    /** @return whether nothing is waiting to be read (non-blocking check) */
    boolean nothingWaiting(int fd) throws IOException {
        return s.receive(fd, new byte[16], Net.MSG_PEEK, null, null) == Sockets.WOULD_BLOCK;
    }

    static long inode(int fd) throws IOException {
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        return Long.parseLong(target.substring(8, target.length() - 1));
    }

    static String target(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    static byte[] numbered(String prefix, int lines) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            text.append(prefix).append(' ').append(i).append('\n');
        }
        return text.toString().getBytes();
    }

    static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    @Override
    public void close() {
        for (int fd : open) {
            s.close(fd);
        }
        open.clear();
    }
}
