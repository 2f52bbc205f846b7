package org.stasis.plugin.socket;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.FdSource;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * Sockets: Unix (stream, datagram, seqpacket; path, abstract and unnamed, socket
 * pairs), TCP and UDP over IPv4 and IPv6. Connections between processes of the
 * computation come back connected, listeners listen again on their addresses, the
 * data in flight is saved (TCP connections are emptied with a cookie and refilled
 * when the checkpoint is over; other queues are read without being taken) and put
 * back at restart, and the options a program set come back. A connection to a
 * peer outside the computation cannot come back: at restart the program finds it
 * reset (TCP) or closed (Unix), as after a network failure, and the event log says
 * which. See doc/socket-plugin.md.
 *
 * <p>Ranked below the file plugin and above the pty plugin: at restart (reverse
 * order) it runs after the pty plugin, so a socket on a standard stream that leads
 * inside the computation replaces the pty plugin's stand-in for it.
 */
@Component(property = "service.ranking:Integer=150")
@StasisPlugin("socket")
public class SocketPlugin implements DrainCallback, WriteCallback, ResumeCallback, RestartCallback {
    private static final Duration COOKIE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REFILL_PATIENCE = Duration.ofSeconds(2);
    // From drain to write and resume of one checkpoint, in the operation store.
    private static final String SNAPSHOT = "snapshot";
    // The exchange of resume: the bytes each part took out of its ends of connections between parts.
    private static final String INFLIGHT = "inflight";
    private static final String DATA = "data";

    private final Sockets sockets;
    private final Path proc;

    /** The component: system calls through the C library, processes under /proc. */
    public SocketPlugin() {
        this(Sockets.load(), Path.of("/proc"));
    }

    SocketPlugin(Sockets sockets, Path proc) {
        this.sockets = sockets;
        this.proc = proc;
    }

    @Override
    public void drain(CheckpointContext context) throws IOException {
        Snapshot snapshot = new Snapshot();
        context.store().put(SNAPSHOT, snapshot); // kept even if draining fails: what was taken goes back at resume
        new Drainer(sockets, proc, COOKIE_TIMEOUT, new SecureRandom()).drain(context, snapshot);
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        Snapshot snapshot = context.store().get(SNAPSHOT, Snapshot.class).orElse(null);
        if (snapshot != null && !snapshot.sockets.isEmpty()) {
            snapshot.write(context.records(), context.pluginDirectory());
        }
    }

    @Override
    public void resume(ResumeContext context) throws IOException {
        Snapshot snapshot = context.store().remove(SNAPSHOT, Snapshot.class).orElse(null);
        if (snapshot == null || context.isRestart()) {
            return;
        }
        try {
            try {
                refill(snapshot, context.processes(), context);
            } finally {
                refillBetween(snapshot, context.processes(), context);
            }
        } finally {
            new Backlog(sockets, null, context::log).giveBack(snapshot, context.processes(),
                    new Filler(sockets, REFILL_PATIENCE, Limits.read(proc.resolve("sys/net/core"))));
        }
    }

    // The cookie drain took these bytes out of the kernel: the sender sends them again.
    private void refill(Snapshot snapshot, ProcessAccess processes, ResumeContext context) throws IOException {
        Filler filler = new Filler(sockets, REFILL_PATIENCE, Limits.read(proc.resolve("sys/net/core")));
        IOException failure = null;
        for (Snapshot.Taken taken : snapshot.taken) {
            SocketDescription receiver = snapshot.sockets.get(taken.receiver());
            try {
                Holder sender = snapshot.holders.get(taken.sender()).get(0);
                Holder to = snapshot.holders.get(taken.receiver()).get(0);
                long lost = filler.stream(processes.duplicate(sender.pid(), sender.fd()), taken.data(),
                        processes.duplicate(to.pid(), to.fd()));
                if (lost > 0) {
                    context.log(receiver.describe() + ": " + lost + " of " + taken.data().length
                            + " bytes in flight could not be put back");
                }
            } catch (IOException e) {
                context.log(receiver.describe() + ": the bytes in flight could not be put back: " + e.getMessage());
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /*
     * What this part took out of its ends of connections between parts was sent by the
     * other parts: it goes back to them (exchange topic "inflight"), and what they took
     * out of their ends is sent again through ours, before any program runs again.
     */
    private void refillBetween(Snapshot snapshot, ProcessAccess processes, ResumeContext context) throws IOException {
        if (snapshot.between.isEmpty()) {
            return; // no part has bytes for this one (links are found alike on both sides), and it has none for them
        }
        Parcels parcels = new Parcels();
        for (Snapshot.TakenBetween taken : snapshot.takenBetween) {
            Snapshot.Between other = snapshot.between.get(taken.receiver());
            parcels.add(DATA, other.part(), other.inode(), Base64.getEncoder().encodeToString(taken.data()));
        }
        Map<String, byte[]> all;
        try {
            all = Rounds.exchange(context::exchange, INFLIGHT, parcels.encode());
        } catch (IOException e) {
            for (Snapshot.TakenBetween taken : snapshot.takenBetween) {
                context.log(snapshot.sockets.get(taken.receiver()).describe() + ": " + taken.data().length
                        + " bytes in flight from another part could not be given back to it: " + e.getMessage());
            }
            throw e;
        }
        Filler filler = new Filler(sockets, REFILL_PATIENCE, Limits.read(proc.resolve("sys/net/core")));
        for (Parcels.Parcel parcel : Parcels.forMe(all, context.part(), DATA).values()) {
            Snapshot.Between other = snapshot.between.get(parcel.inode());
            if (other == null || !other.part().equals(parcel.part())) {
                continue;
            }
            SocketDescription end = snapshot.sockets.get(parcel.inode());
            byte[] data = Base64.getDecoder().decode(parcel.value());
            Holder holder = snapshot.holders.get(parcel.inode()).get(0);
            long lost = filler.stream(processes.duplicate(holder.pid(), holder.fd()), data, -1);
            if (lost > 0) {
                context.log(end.describe() + ": " + lost + " of " + data.length + " bytes in flight towards part "
                        + other.part() + " could not be put back");
            }
        }
    }

    @Override
    public void restart(RestartContext context) throws IOException {
        Snapshot snapshot = Snapshot.read(context.records(), context.pluginDirectory());
        if (snapshot.sockets.isEmpty() && context.parts().size() <= 1) {
            return; // (with other parts it still takes part in their exchanges)
        }
        Map<Long, Integer> made = new Rebuilder(sockets, snapshot, context::log, context.plan()::rewrite,
                REFILL_PATIENCE, Limits.read(proc.resolve("sys/net/core")), context.part(), context::exchange)
                .rebuild();
        Map<Long, Integer> ours = new LinkedHashMap<>(made);
        try {
            for (Map.Entry<Long, Integer> socket : made.entrySet()) {
                install(context, snapshot, socket.getKey(), socket.getValue(), ours);
            }
        } finally {
            ours.values().forEach(sockets::close); // those no process received
        }
    }

    /** Installs a socket at its holders; once one has it, the core owns the descriptor and it leaves {@code ours}. */
    private static void install(RestartContext context, Snapshot snapshot, long inode, int descriptor,
            Map<Long, Integer> ours) {
        boolean outside = snapshot.links.getOrDefault(inode, Link.ALONE).kind() == Link.Kind.OUTSIDE;
        for (Holder holder : snapshot.holders.get(inode)) {
            // A standard stream that led outside is the pty plugin's: it gets the restart's own stream.
            if (outside && holder.fd() <= 2) {
                continue;
            }
            context.plan().process(holder.pid()).installFd(holder.fd(), new FdSource.Passed(descriptor, holder.flags()));
            ours.remove(inode);
        }
    }
}
