package org.stasis.plugin.socket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

import org.stasis.api.CheckpointContext;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;

/**
 * The checkpoint side, while every process is suspended: finds the computation's
 * sockets (one per inode, however many descriptors hold it), describes them through
 * duplicates in the coordinator, links them to each other, and saves what waits in
 * their queues: TCP connections between two sockets of the computation are emptied
 * with the cookie protocol (both directions), every other queue is peeked at and
 * left in place.
 */
final class Drainer {
    private static final Duration PULL_TIMEOUT = Duration.ofSeconds(2);

    private final Sockets sockets;
    private final Describer describer;
    private final Peeker peeker;
    private final CookieDrain cookies;
    private final Path proc;
    private final Limits limits;
    private final RandomGenerator random;
    private final Duration cookieTimeout;
    private Map<Long, UnixDiag.Entry> unix;

    /**
     * @param sockets the system calls
     * @param proc where /proc is (for the processes' working directories and net sysctls)
     * @param cookieTimeout how long one direction of a connection may take to drain
     * @param random the source of cookies
     */
    Drainer(Sockets sockets, Path proc, Duration cookieTimeout, RandomGenerator random) {
        this.sockets = sockets;
        this.describer = new Describer(sockets, proc.resolve("sys/net/core"));
        this.peeker = new Peeker(sockets);
        this.cookies = new CookieDrain(sockets, random, cookieTimeout);
        this.proc = proc;
        this.limits = Limits.read(proc.resolve("sys/net/core"));
        this.random = random;
        this.cookieTimeout = cookieTimeout;
    }

    /**
     * @param context the checkpoint (processes suspended)
     * @param into receives what is found, as it is found (so that a failure can still be undone)
     */
    void drain(CheckpointContext context, Snapshot into) throws IOException {
        Map<Integer, Integer> hostPids = new HashMap<>();
        for (ProcessInfo process : context.computation().processes()) {
            hostPids.put(process.pid(), process.hostPid());
            for (OpenFd fd : context.openFds(process.pid())) {
                inode(fd).ifPresent(inode -> into.holders.computeIfAbsent(inode, k -> new ArrayList<>())
                        .add(new Holder(process.pid(), fd.fd(), fd.flags())));
            }
        }
        Map<Long, Integer> duplicates = new HashMap<>();
        for (Map.Entry<Long, List<Holder>> socket : into.holders.entrySet()) {
            Holder first = socket.getValue().get(0);
            int dup = context.processes().duplicate(first.pid(), first.fd());
            duplicates.put(socket.getKey(), dup);
            Path cwd = workingDirectory(hostPids.getOrDefault(first.pid(), first.pid()));
            SocketDescription description = describer.describe(socket.getKey(), dup, this::unixEntry, cwd);
            into.sockets.put(socket.getKey(), description);
            if (description.isUnix() && description.local().isPath()) {
                into.places.put(socket.getKey(), UnixPlace.capture(Path.of(description.local().path())));
            }
        }
        into.links.putAll(new Topology(into.sockets).links());
        // Always, also without sockets: the other parts wait for every part's offer.
        List<Spanning.Found> between = new Spanning(random, context::log).find(context.part(),
                context.parts().size() <= 1, context::exchange, into);
        new CrossDrain(sockets, peeker, cookieTimeout).drain(between, duplicates, into);
        drainQueues(context, into, duplicates);
        new Backlog(sockets, cookies, context::log).take(into, duplicates);
        watches(context, into);
    }

    // The epoll instances that watch a client taken out of an accept queue (fdinfo "tfd:" lines).
    private static void watches(CheckpointContext context, Snapshot into) throws IOException {
        Set<List<Integer>> clients = new HashSet<>();
        into.unaccepted.keySet().forEach(c -> into.holders.get(c).forEach(h -> clients.add(List.of(h.pid(), h.fd()))));
        Set<Integer> pids = new HashSet<>();
        clients.forEach(c -> pids.add(c.get(0)));
        for (int pid : pids) {
            for (OpenFd fd : context.openFds(pid)) {
                if (!fd.target().equals("anon_inode:[eventpoll]")) {
                    continue;
                }
                for (String line : context.processes().fdInfo(pid, fd.fd())) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length >= 6 && f[0].equals("tfd:") && clients.contains(List.of(pid, Integer.parseInt(f[1])))) {
                        into.watches.add(new Snapshot.Watch(pid, fd.fd(), Integer.parseInt(f[1]),
                                Integer.parseUnsignedInt(f[3], 16), Long.parseUnsignedLong(f[5], 16)));
                    }
                }
            }
        }
    }

    /** @return the inode of a socket descriptor */
    static Optional<Long> inode(OpenFd fd) {
        String target = fd.target();
        if (fd.kind() != OpenFd.Kind.SOCKET || !target.startsWith("socket:[") || !target.endsWith("]")) {
            return Optional.empty();
        }
        return Optional.of(Long.parseLong(target.substring(8, target.length() - 1)));
    }

    private Optional<UnixDiag.Entry> unixEntry(long inode) throws IOException {
        if (unix == null) {
            unix = new UnixDiag(sockets).dump();
        }
        return Optional.ofNullable(unix.get(inode));
    }

    private Path workingDirectory(int hostPid) {
        try {
            return Files.readSymbolicLink(proc.resolve(hostPid + "/cwd"));
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private void drainQueues(CheckpointContext context, Snapshot into, Map<Long, Integer> dups) throws IOException {
        Set<Long> drained = new HashSet<>();
        for (SocketDescription socket : into.sockets.values()) {
            Link link = into.links.get(socket.inode());
            if (socket.isTcp() && link.kind() == Link.Kind.PAIR && !drained.contains(socket.inode())) {
                SocketDescription peer = into.sockets.get(link.other());
                drainDirection(context, into, socket, peer, dups);
                drainDirection(context, into, peer, socket, dups);
                drained.add(socket.inode());
                drained.add(peer.inode());
            }
        }
        for (SocketDescription socket : into.sockets.values()) {
            if (drained.contains(socket.inode()) || socket.listening() || !socket.supported()
                    || into.links.get(socket.inode()).kind() == Link.Kind.BETWEEN) {
                continue;
            }
            try {
                Queued queued = peeker.peek(dups.get(socket.inode()), socket);
                if (!queued.isEmpty()) {
                    into.queues.put(socket.inode(), queued);
                }
            } catch (SyscallException e) {
                context.log("the data waiting in " + socket.describe() + " is not saved: " + e.getMessage());
            }
        }
    }

    /*
     * The sender shut its side, or the receiver its reading side (it would report the
     * end of the stream before any cookie): no cookie can follow it, and nothing taken from the
     * receiver could be sent back through it. So the receiver is only peeked at. When
     * the receiver's window was full, the sender still holds bytes: the receiver's
     * buffer is enlarged for a moment (as far as a program may) and its window
     * announced with a peek, so that they move over and can be peeked at too. What
     * still does not fit stays where it is: the program goes on unharmed, but a
     * restart from this checkpoint lacks those bytes, and the event log says so.
     */
    private void halfClosed(CheckpointContext context, Snapshot into, SocketDescription sender,
            SocketDescription receiver, int senderFd, int receiverFd) throws IOException {
        int held = held(senderFd);
        if (held > 0) {
            held = pullOver(senderFd, receiverFd, held);
        }
        Queued queued = peeker.peek(receiverFd, receiver);
        if (!queued.isEmpty()) {
            into.queues.put(receiver.inode(), queued);
        }
        if (held > 0) {
            context.log(sender.describe() + " shut its sending side with " + held
                    + " bytes still on their way, which cannot be saved without taking them from the program:"
                    + " a restart from this checkpoint loses them");
        }
    }

    /** @return the bytes a TCP sender holds that its peer has not acknowledged (not counting its FIN) */
    private int held(int senderFd) throws IOException {
        int state = sockets.option(senderFd, Net.IPPROTO_TCP, Net.TCP_INFO, 1)[0] & 0xff;
        boolean finPending = state == Net.TCP_FIN_WAIT1 || state == Net.TCP_CLOSING || state == Net.TCP_LAST_ACK;
        return Math.max(0, sockets.outQueue(senderFd) - (finPending ? 1 : 0));
    }

    private int pullOver(int senderFd, int receiverFd, int held) throws IOException {
        long before = SocketOption.RCVBUF.read(sockets, receiverFd)[0];
        long wanted = Math.min(limits.granted(SocketOption.RCVBUF), before + 2L * held + (1 << 16));
        if (wanted <= before) {
            return held;
        }
        SocketOption.RCVBUF.write(sockets, receiverFd, new long[] {wanted});
        try {
            byte[] one = new byte[1];
            long deadline = System.nanoTime() + PULL_TIMEOUT.toNanos();
            while (held > 0 && System.nanoTime() < deadline) {
                sockets.receive(receiverFd, one, Net.MSG_PEEK, null, null); // a read announces the new window
                sockets.poll(new int[] {receiverFd}, new int[] {0}, 10);
                held = held(senderFd);
            }
        } finally {
            SocketOption.RCVBUF.write(sockets, receiverFd, new long[] {before});
        }
        return held;
    }

    private void drainDirection(CheckpointContext context, Snapshot into, SocketDescription sender,
            SocketDescription receiver, Map<Long, Integer> dups) throws IOException {
        int receiverFd = dups.get(receiver.inode());
        if ((sender.shutdown() & Net.SEND_SHUTDOWN) != 0 || (receiver.shutdown() & Net.RCV_SHUTDOWN) != 0) {
            halfClosed(context, into, sender, receiver, dups.get(sender.inode()), receiverFd);
            return;
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        try {
            cookies.drain(dups.get(sender.inode()), receiverFd, data, sender.describe());
        } finally {
            if (data.size() > 0) {
                into.taken.add(new Snapshot.Taken(receiver.inode(), sender.inode(), data.toByteArray()));
                into.queues.put(receiver.inode(), Queued.ofBytes(data.toByteArray()));
            }
        }
    }
}
