package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.stasis.api.PluginRecords;

/**
 * The sockets of one checkpoint: their descriptions, how they connect, which
 * descriptors hold them, and what waited in their queues. Kept in memory from
 * {@code drain} to {@code resume} (to refill), written into the checkpoint by
 * {@code write}, read back at restart.
 */
final class Snapshot {
    /**
     * Data the drain took out of the kernel (it is not there any more): it must be
     * sent again through the sender to resume.
     *
     * @param receiver the socket it was waiting for
     * @param sender the socket it came from (the peer of the receiver)
     * @param data the bytes, in order
     */
    record Taken(long receiver, long sender, byte[] data) {
    }

    /**
     * A client of the computation that waited in a listener's accept queue: its
     * connection was taken out of the queue to save the bytes the client had sent into
     * it; a resume or a restart connects the client again and sends them again.
     *
     * @param client the client socket
     * @param listener the listener it waited in
     * @param order its place in the accept queue (0 first)
     * @param data the bytes it had sent
     */
    record Unaccepted(long client, long listener, int order, byte[] data) {
    }

    /**
     * An epoll registration of a client taken out of an accept queue, made again in the
     * process once the new client is installed (after a checkpoint; the event plugin
     * restores registrations after a restart).
     */
    record Watch(int pid, int epfd, int fd, int events, long data) {
    }

    /**
     * The other end of a TCP connection between parts.
     *
     * @param part the part that holds the other end
     * @param inode the other end's inode in that part
     * @param server whether this end listens when a restart connects the two again
     *        (decided alike by both parts)
     * @param shutdown the other end's shutdown bits
     * @param waiting whether this end is a client still waiting in the accept queue of
     *        the other part's listener {@code inode} (no process holds the other end)
     */
    record Between(String part, long inode, boolean server, int shutdown, boolean waiting) {
        Between(String part, long inode, boolean server, int shutdown) {
            this(part, inode, server, shutdown, false);
        }

        String encode() {
            return part + " " + inode + " " + (server ? "server" : "client") + " " + shutdown + (waiting ? " waiting" : "");
        }

        static Between decode(String text) {
            String[] f = text.trim().split(" ");
            return new Between(f[0], Long.parseLong(f[1]), f[2].equals("server"), Integer.parseInt(f[3]),
                    f.length > 4 && f[4].equals("waiting"));
        }
    }

    /**
     * A client in another part waiting in the accept queue of a listener of this part.
     *
     * @param part its part
     * @param inode its inode there
     */
    record Waiter(String part, long inode) {
    }

    /**
     * Data the drain took out of this part's end of a connection between parts: the
     * other part sent it, and sends it again at resume.
     *
     * @param receiver this part's end
     * @param data the bytes, in order
     */
    record TakenBetween(long receiver, byte[] data) {
    }

    private static final String BETWEEN = "between.";
    private static final String WAITERS = "waiters.";
    private static final String UNACCEPTED = "unaccepted.";
    private static final String SOCKET = "socket.";
    private static final String LINK = "link.";
    private static final String HOLDERS = "holders.";
    private static final String QUEUE = "queue.";
    private static final String PLACE = "place.";

    final Map<Long, SocketDescription> sockets = new LinkedHashMap<>();
    final Map<Long, List<Holder>> holders = new LinkedHashMap<>();
    final Map<Long, Link> links = new LinkedHashMap<>();
    final Map<Long, Queued> queues = new LinkedHashMap<>();
    /** Where Unix sockets bound to paths live, by inode. */
    final Map<Long, UnixPlace> places = new LinkedHashMap<>();
    final List<Taken> taken = new ArrayList<>();
    /** The clients taken out of accept queues, by client inode, in queue order. */
    final Map<Long, Unaccepted> unaccepted = new LinkedHashMap<>();
    /** The other ends of connections between parts, by this part's inode. */
    final Map<Long, Between> between = new LinkedHashMap<>();
    /** The clients of other parts waiting in this part's listeners, by listener inode. */
    final Map<Long, List<Waiter>> waiters = new LinkedHashMap<>();
    /** What the drain took out of this part's ends of connections between parts (memory only, for resume). */
    final List<TakenBetween> takenBetween = new ArrayList<>();
    /** The epoll registrations of those clients (kept in memory only, for resume). */
    final List<Watch> watches = new ArrayList<>();

    /**
     * Writes the records and a blob per non-empty queue.
     *
     * @param records the plugin's records
     * @param directory the plugin's directory in the checkpoint
     */
    void write(PluginRecords records, Path directory) throws IOException {
        for (SocketDescription socket : sockets.values()) {
            long inode = socket.inode();
            records.put(SOCKET + inode, socket.encode());
            records.put(LINK + inode, links.getOrDefault(inode, Link.ALONE).encode());
            records.put(HOLDERS + inode, Holder.encode(holders.get(inode)));
            Between other = between.get(inode);
            if (other != null) {
                records.put(BETWEEN + inode, other.encode());
            }
            List<Waiter> remote = waiters.get(inode);
            if (remote != null) {
                StringBuilder text = new StringBuilder();
                remote.forEach(w -> text.append(text.length() == 0 ? "" : " ").append(w.part()).append(':').append(w.inode()));
                records.put(WAITERS + inode, text.toString());
            }
            UnixPlace place = places.get(inode);
            if (place != null) {
                records.put(PLACE + inode, place.encode());
            }
            Unaccepted waiting = unaccepted.get(inode);
            if (waiting != null) {
                String blob = "unaccepted-" + inode + ".bin";
                writeBlob(directory.resolve(blob), waiting.data());
                records.put(UNACCEPTED + inode, waiting.listener() + " " + waiting.order() + " " + blob);
            }
            Queued queued = queues.get(inode);
            if (queued != null && !queued.isEmpty()) {
                String blob = "queue-" + inode + ".bin";
                Path file = directory.resolve(blob);
                writeBlob(file, queued.encode());
                records.put(QUEUE + inode, blob + " " + queued.summary());
            }
        }
    }

    private static void writeBlob(Path file, byte[] data) throws IOException {
        Files.write(file, data);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    /**
     * @param records the records {@link #write} stored
     * @param directory the plugin's directory in the checkpoint
     * @return the snapshot they describe
     * @throws IOException if a blob is missing or damaged
     */
    static Snapshot read(PluginRecords records, Path directory) throws IOException {
        Snapshot snapshot = new Snapshot();
        for (Map.Entry<String, String> record : records.asMap().entrySet()) {
            String key = record.getKey();
            if (!key.startsWith(SOCKET)) {
                continue;
            }
            long inode = Long.parseLong(key.substring(SOCKET.length()));
            snapshot.sockets.put(inode, SocketDescription.decode(inode, record.getValue()));
            snapshot.links.put(inode, records.get(LINK + inode).map(Link::decode).orElse(Link.ALONE));
            snapshot.holders.put(inode, Holder.decode(records.get(HOLDERS + inode).orElseThrow(
                    () -> new IOException("the checkpoint does not say which descriptors held socket " + inode))));
            records.get(BETWEEN + inode).map(Between::decode).ifPresent(b -> snapshot.between.put(inode, b));
            records.get(WAITERS + inode).ifPresent(text -> {
                List<Waiter> remote = new ArrayList<>();
                for (String w : text.trim().split(" ")) {
                    int colon = w.lastIndexOf(':');
                    remote.add(new Waiter(w.substring(0, colon), Long.parseLong(w.substring(colon + 1))));
                }
                snapshot.waiters.put(inode, remote);
            });
            records.get(PLACE + inode).map(UnixPlace::decode).ifPresent(p -> snapshot.places.put(inode, p));
            String waiting = records.get(UNACCEPTED + inode).orElse(null);
            if (waiting != null) {
                String[] f = waiting.trim().split(" ");
                snapshot.unaccepted.put(inode, new Unaccepted(inode, Long.parseLong(f[0]), Integer.parseInt(f[1]),
                        readBlob(directory.resolve(f[2]), inode)));
            }
            String queue = records.get(QUEUE + inode).orElse(null);
            if (queue != null) {
                Path blob = directory.resolve(queue.split(" ", 2)[0]);
                if (!Files.isRegularFile(blob)) {
                    throw new IOException("the checkpoint lost the saved data of socket " + inode + " (" + blob + ")");
                }
                snapshot.queues.put(inode, Queued.decode(Files.readAllBytes(blob)));
            }
        }
        return snapshot;
    }

    private static byte[] readBlob(Path blob, long inode) throws IOException {
        if (!Files.isRegularFile(blob)) {
            throw new IOException("the checkpoint lost the saved data of socket " + inode + " (" + blob + ")");
        }
        return Files.readAllBytes(blob);
    }
}
