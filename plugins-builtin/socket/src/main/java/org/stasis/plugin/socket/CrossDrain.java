package org.stasis.plugin.socket;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Drains the connections between parts, every one at once (the other parts drain
 * theirs at the same time, in their own order): through each end this part sends its
 * own cookie, behind everything its program sent, and reads until the other part's
 * cookie comes out. What came before it is the data in flight towards this end; it
 * is taken out of the kernel and sent again by the other part at resume. A direction
 * whose sender shut its side (or whose receiver shut its reading side) carries no
 * cookie: the receiver's queue is only peeked at.
 */
final class CrossDrain {
    private static final int CHUNK = 1 << 16;
    private static final int POLL_MILLIS = 100;

    private final Sockets sockets;
    private final Peeker peeker;
    private final Duration timeout;

    CrossDrain(Sockets sockets, Peeker peeker, Duration timeout) {
        this.sockets = sockets;
        this.peeker = peeker;
        this.timeout = timeout;
    }

    /** One end being drained. */
    private static final class End {
        final Spanning.Found link;
        final int fd;
        final boolean sends;
        final boolean expects;
        final CookieDrain.Buffer data = new CookieDrain.Buffer();
        int sent;
        boolean arrived;

        End(Spanning.Found link, int fd) {
            this.link = link;
            this.fd = fd;
            int mine = link.mine().shutdown();
            int theirs = link.theirs().shutdown();
            this.sends = (mine & Net.SEND_SHUTDOWN) == 0 && (theirs & Net.RCV_SHUTDOWN) == 0;
            this.expects = (theirs & Net.SEND_SHUTDOWN) == 0 && (mine & Net.RCV_SHUTDOWN) == 0;
        }

        boolean done() {
            return (!sends || sent == CookieDrain.COOKIE) && (!expects || arrived);
        }

        String what() {
            return link.mine().describe() + " (to part " + link.theirs().part() + ")";
        }
    }

    /**
     * @param links the connections between parts
     * @param duplicates this part's descriptor of each end, by inode
     * @param into receives what was taken (also when this fails: it goes back at resume)
     * @throws IOException if a cookie does not come through in time or a connection breaks
     */
    void drain(List<Spanning.Found> links, Map<Long, Integer> duplicates, Snapshot into) throws IOException {
        List<End> ends = new ArrayList<>();
        for (Spanning.Found link : links) {
            End end = new End(link, duplicates.get(link.mine().inode()));
            ends.add(end);
            if (!end.expects) {
                Queued queued = peeker.peek(end.fd, link.mine());
                if (!queued.isEmpty()) {
                    into.queues.put(link.mine().inode(), queued);
                }
            }
        }
        byte[] chunk = new byte[CHUNK];
        try {
            run(ends, chunk);
        } finally {
            for (End end : ends) {
                if (end.expects && !end.arrived) {
                    takeTheRest(end, chunk);
                }
                if (end.data.length > 0) {
                    byte[] taken = java.util.Arrays.copyOf(end.data.bytes, end.data.length);
                    into.takenBetween.add(new Snapshot.TakenBetween(end.link.mine().inode(), taken));
                    into.queues.put(end.link.mine().inode(), Queued.ofBytes(taken));
                }
            }
        }
    }

    private void run(List<End> ends, byte[] chunk) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean all = true;
            for (End end : ends) {
                step(end, chunk);
                all &= end.done();
            }
            if (all) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                End late = ends.stream().filter(e -> !e.done()).findFirst().orElseThrow();
                throw new IOException(late.what() + ": the drain cookie " + (late.arrived ? "was not sent" : "did not come")
                        + " through within " + timeout.toSeconds() + " s (" + late.data.length
                        + " bytes read); is the other part's end stalled?");
            }
            poll(ends, (int) Math.min(POLL_MILLIS, Math.max(1, left / 1_000_000)));
        }
    }

    private void step(End end, byte[] chunk) throws IOException {
        if (end.sends && end.sent < CookieDrain.COOKIE) {
            try {
                end.sent += Math.max(0, sockets.send(end.fd, end.link.ours().cookie(), end.sent,
                        CookieDrain.COOKIE - end.sent, null));
            } catch (SyscallException e) {
                throw new IOException(end.what() + ": the drain cookie cannot be sent: " + e.getMessage(), e);
            }
        }
        while (end.expects && !end.arrived) {
            int n = sockets.receive(end.fd, chunk, 0, null, null);
            if (n == 0) {
                throw new IOException(end.what() + ": the connection ended before the drain cookie came through");
            }
            if (n < 0) {
                return;
            }
            end.data.append(chunk, n);
            if (end.data.endsWith(end.link.theirs().cookie())) {
                end.data.drop(CookieDrain.COOKIE);
                end.arrived = true;
            }
        }
    }

    private void poll(List<End> ends, int millis) throws IOException {
        int[] fds = new int[ends.size()];
        int[] events = new int[ends.size()];
        for (int i = 0; i < fds.length; i++) {
            End end = ends.get(i);
            fds[i] = end.fd;
            events[i] = (end.sends && end.sent < CookieDrain.COOKIE ? Net.POLLOUT : 0)
                    | (end.expects && !end.arrived ? Net.POLLIN : 0);
        }
        sockets.poll(fds, events, millis);
    }

    // After a failure all that is readable is taken too, so that what goes back keeps its order.
    private void takeTheRest(End end, byte[] chunk) {
        try {
            int n;
            while ((n = sockets.receive(end.fd, chunk, 0, null, null)) > 0) {
                end.data.append(chunk, n);
            }
        } catch (IOException e) {
            // What was read so far is still handed back.
        }
    }
}
