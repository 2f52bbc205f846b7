package org.stasis.framework.control;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.core.Coordinator;
import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.util.RuntimeDirectory;

/**
 * The coordinator's control socket (doc/control-protocol.md). It opens only once the
 * launcher says every bundle has started, so a client that gets an answer to PING can
 * rely on every command being there. Only the coordinator's own user may connect.
 * Connections are read by a {@link ConnectionHub} and served by a bounded pool of
 * workers (limits in {@link HubLimits}).
 */
@Component(immediate = true)
public class ControlServer {
    /** Property of the service the launcher registers once every bundle has started. */
    public static final String READY_PROPERTY = "stasis.ready";
    /** Framework property with the {@code HOST:PORT} to accept TCP control connections on, if any. */
    public static final String LISTEN_PROPERTY = "stasis.listen";
    /** At most LOG_BURST log lines of a kind (refused token, idle connection...) per this many milliseconds. */
    private static final long LOG_INTERVAL_MS = 10_000;
    private static final int LOG_BURST = 5;

    private static final java.util.regex.Pattern ABOUT = java.util.regex.Pattern.compile("\\s*stasis:about(\\s|$)");

    private final Path socket;
    private final ConnectionHub hub;
    private final RequestServer requests;

    /**
     * @param context the framework bundle's context
     * @param processor the Gogo command processor
     * @param coordinator the coordinator the socket belongs to
     * @param ready the launcher's signal that every bundle has started
     * @throws IOException if the socket cannot be opened
     */
    @Activate
    public ControlServer(BundleContext context, @Reference CommandProcessor processor,
            @Reference Coordinator coordinator,
            @Reference(service = Object.class, target = "(" + READY_PROPERTY + "=true)") Object ready)
            throws IOException {
        this.requests = new RequestServer(processor, "Stasis coordinator '" + coordinator.name()
                + "'. Type 'help' for commands, 'exit' or Ctrl-D to leave.", HubLimits.DEFAULT.shellIdleMillis());
        RuntimeDirectory directory = RuntimeDirectory.of(context).ensurePrivate();
        this.socket = directory.socket(coordinator.name());
        CommandRunner.coordinatorName(coordinator.name());
        UserPrincipal owner = Files.getOwner(directory.path());
        String listen = context.getProperty(LISTEN_PROPERTY);
        boolean wantTcp = listen != null && !listen.isBlank();
        TokenFile token = null;
        ServerSocketChannel tcp = null;
        if (wantTcp) {
            try {
                token = TokenFile.loadOrCreate(directory.path().resolve(coordinator.name() + ".token"), owner);
                tcp = TcpControlListener.bind(ListenAddress.parse(listen), token, coordinator.diagnostics());
            } catch (IOException | IllegalArgumentException e) {
                stopAfterListenFailure(context, listen, e, coordinator.diagnostics());
                this.hub = null; // --listen failed and the framework is stopping: open no door at all
                return;
            }
        }
        RateLimitedLog log = new RateLimitedLog(System.err, LOG_INTERVAL_MS, LOG_BURST, System::currentTimeMillis);
        HubLimits limits = HubLimits.DEFAULT;
        this.hub = new ConnectionHub(limits, new Workers(limits, request -> serve(request, coordinator)), owner,
                token == null ? null : new TokenGate(token), log, busyLine(coordinator.name()));
        hub.onRefusedToken(line -> coordinator.log().add(new org.stasis.framework.dispatch.EventLogEntry(
                java.time.Instant.now(), "control", "core:token", "core", 0, "warning",
                line.replaceFirst("^stasis: ", ""))));
        if (tcp != null) {
            hub.listen(tcp, true);
            if (tcp.getLocalAddress() instanceof java.net.InetSocketAddress address) {
                coordinator.controlPort(address.getPort());
                boolean any = address.getAddress().isAnyLocalAddress();
                String host = any ? "127.0.0.1" : address.getAddress().getHostAddress();
                String port = ":" + address.getPort();
                String bound = (host.contains(":") ? "[" + host + "]" : host) + port;
                coordinator.controlAddress(bound);
                coordinator.reachableAt(any ? port : bound);
            }
        }
        // The launcher has checked that no live coordinator owns this name: a file left here is stale.
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket), 512);
        hub.listen(server, false);
        hub.start();
        coordinator.onStopping(this::closeDoor);
    }

    // The coordinator stops: new clients find no socket (no coordinator) rather than one
    // that takes their request and then vanishes; requests already taken are answered.
    private void closeDoor() {
        hub.closeListeners();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // deactivate() tries again
        }
    }

    // A request restarts an idle coordinator's grace period, before and after it runs:
    // launch's ping and launchid, a checkpoint right after the program ended. Only
    // looking at it (stasis coordinators) does not keep it alive.
    private void serve(ControlRequest request, Coordinator coordinator) {
        if (request.line().equals("JOIN")) {
            coordinator.members().accept(request.channel(), request.rest()); // the member link keeps it
            return;
        }
        boolean counts = !observes(request);
        if (counts) {
            coordinator.touch();
        }
        try {
            requests.serve(request);
        } finally {
            if (counts) {
                coordinator.touch();
            }
        }
    }

    static boolean observes(ControlRequest request) {
        return request.script() != null && ABOUT.matcher(request.script()).lookingAt();
    }

    /** @return the line a client gets when the coordinator cannot take its connection now */
    static String busyLine(String name) {
        return "stasis: coordinator '" + name + "' is busy (too many control connections); try again in a moment";
    }

    @Deactivate
    void deactivate() throws IOException {
        if (hub == null) {
            return;
        }
        hub.close();
        requests.close();
        Files.deleteIfExists(socket);
    }

    private static void stopAfterListenFailure(BundleContext context, String listen, Exception e,
            Diagnostics diagnostics) {
        diagnostics.warning(Diagnostics.COORDINATOR, "listen", "cannot listen on TCP " + listen + ": " + e.getMessage()
                + "; stopping (choose another --listen address or port)");
        Thread stop = new Thread(() -> {
            try {
                context.getBundle(0).stop();
            } catch (Exception ignored) {
                // already stopping
            }
        }, "stasis-stop-after-listen-failure");
        stop.start();
    }
}
