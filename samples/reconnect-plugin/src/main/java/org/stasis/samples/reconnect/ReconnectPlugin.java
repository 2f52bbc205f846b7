package org.stasis.samples.reconnect;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.stasis.api.CheckpointContext;
import org.stasis.api.FdSource;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * Reconnects a program's TCP connections to configured outside services (a database,
 * a cache) at restart. Without it such a connection comes back reset, as the built-in
 * socket plugin restores every connection to a peer outside the computation; with it
 * the program finds a fresh connection to the same address at the same descriptor.
 * The service sees a new client: a protocol with a session (a login, a transaction)
 * has to start over, which a client that retries on a new connection does anyway.
 *
 * <p>At checkpoint the plugin looks at each socket through a duplicate in the
 * coordinator ({@code ProcessAccess.duplicate}, then getpeername); at restart it
 * connects in the coordinator and hands the socket over with {@link FdSource.Passed}.
 *
 * <p>Ranking 160: at checkpoint plugins run in descending ranking, at restart in
 * ascending ranking, and a later {@code installFd} for a descriptor replaces an
 * earlier one (the core closes the replaced descriptor). The socket plugin (150)
 * therefore installs its reset connection first and this plugin, running after it,
 * replaces it with a live one. If the service is down at restart this plugin installs
 * nothing, so the reset connection stands and the program sees the failure it would
 * see after any broken connection.
 */
@Component(configurationPid = ReconnectPlugin.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = "service.ranking:Integer=160")
@StasisPlugin("reconnect")
public class ReconnectPlugin implements WriteCallback, RestartCallback {
    /** The Configuration Admin pid. */
    public static final String PID = "org.stasis.samples.reconnect";

    private final TcpSockets sockets;
    private volatile Settings settings;

    /**
     * @param config the configuration (all defaults when there is none)
     */
    @Activate
    public ReconnectPlugin(ReconnectConfig config) {
        this(new TcpSockets(), Settings.of(config));
        report(settings);
    }

    ReconnectPlugin(TcpSockets sockets, Settings settings) {
        this.sockets = sockets;
        this.settings = settings;
    }

    // A new configuration applies from the next checkpoint on; no restart of the component needed.
    @Modified
    void modified(ReconnectConfig config) {
        this.settings = Settings.of(config);
        report(settings);
    }

    private static void report(Settings settings) {
        settings.problems().forEach(problem -> System.err.println("stasis reconnect plugin: " + problem));
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        Settings now = settings;
        now.problems().forEach(context::log);
        if (now.services().isEmpty()) {
            return;
        }
        // One look per socket, even if several descriptors or processes share it.
        Map<Long, Optional<TcpConnection>> seen = new HashMap<>();
        for (ProcessInfo process : context.computation().processes()) {
            for (OpenFd fd : context.openFds(process.pid())) {
                if (fd.kind() != OpenFd.Kind.SOCKET) {
                    continue;
                }
                long socket = SavedFd.inodeOf(fd.target());
                Optional<TcpConnection> connection = seen.get(socket);
                if (connection == null) {
                    connection = sockets.describe(context.processes().duplicate(process.pid(), fd.fd()))
                            .filter(c -> now.isService(c.peer()));
                    seen.put(socket, connection);
                }
                if (connection.isPresent()) {
                    SavedFd saved = new SavedFd(process.pid(), fd.fd(), fd.flags(), socket, connection.get());
                    context.records().put(saved.key(), saved.value());
                    context.log("pid " + process.pid() + " fd " + fd.fd() + " is connected to service "
                            + connection.get().peer() + ": reconnected at restart");
                }
            }
        }
    }

    @Override
    public void restart(RestartContext context) {
        for (List<SavedFd> sharing : bySocket(context).values()) {
            reconnect(context, sharing);
        }
    }

    // Records of one socket, in the order they were written; the first one's connection stands for all.
    private static Map<Long, List<SavedFd>> bySocket(RestartContext context) {
        Map<Long, List<SavedFd>> sockets = new LinkedHashMap<>();
        context.records().asMap().forEach((key, value) -> {
            if (SavedFd.isKey(key)) {
                SavedFd saved = SavedFd.decode(key, value);
                sockets.computeIfAbsent(saved.socket(), socket -> new ArrayList<>()).add(saved);
            }
        });
        return sockets;
    }

    private void reconnect(RestartContext context, List<SavedFd> sharing) {
        TcpConnection connection = sharing.get(0).connection();
        // Looked up before connecting, so that nothing can fail between connect and the core taking the socket.
        List<ProcessPlan> plans = sharing.stream().map(saved -> context.plan().process(saved.pid())).toList();
        int descriptor;
        try {
            descriptor = sockets.connect(connection, settings.connectTimeout());
        } catch (IOException e) {
            context.log("cannot reconnect " + where(sharing) + " to " + connection.peer() + " (" + e.getMessage()
                    + "); the connection stays reset");
            return;
        }
        // From here the core owns the descriptor and closes it; this plugin never does.
        for (int i = 0; i < sharing.size(); i++) {
            plans.get(i).installFd(sharing.get(i).fd(), new FdSource.Passed(descriptor, sharing.get(i).flags()));
        }
        context.log("reconnected " + where(sharing) + " to " + connection.peer());
    }

    private static String where(List<SavedFd> sharing) {
        return String.join(", ", sharing.stream().map(saved -> "pid " + saved.pid() + " fd " + saved.fd()).toList());
    }
}
