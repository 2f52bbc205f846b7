package org.stasis.framework.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.core.Coordinator;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The coordinator's control socket (doc/control-protocol.md). It opens only once the
 * launcher says every bundle has started, so a client that gets an answer to PING can
 * rely on every command being there. Only the coordinator's own user may connect.
 */
@Component(immediate = true)
public class ControlServer {
    /** Property of the service the launcher registers once every bundle has started. */
    public static final String READY_PROPERTY = "stasis.ready";
    /** Framework property with the {@code HOST:PORT} to accept TCP control connections on, if any. */
    public static final String LISTEN_PROPERTY = "stasis.listen";

    private static final int MAX_REQUEST_LINE = 64;
    private static final int MAX_SCRIPT = 1 << 20;

    private final CommandProcessor processor;
    private final Coordinator coordinator;
    private final Path socket;
    private final UserPrincipal owner;
    private final ServerSocketChannel server;
    private final TcpControlListener tcp;
    private final ExecutorService connections = Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "stasis-control-connection");
        thread.setDaemon(true);
        return thread;
    });

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
        this.processor = processor;
        this.coordinator = coordinator;
        RuntimeDirectory directory = RuntimeDirectory.of(context).ensurePrivate();
        this.socket = directory.socket(coordinator.name());
        this.owner = Files.getOwner(directory.path());
        String listen = context.getProperty(LISTEN_PROPERTY);
        this.tcp = listen == null || listen.isBlank() ? null : listenTcp(context, directory, listen);
        if (listen != null && !listen.isBlank() && tcp == null) {
            this.server = null; // --listen failed and the framework is stopping: open no door at all
            return;
        }
        // The launcher has checked that no live coordinator owns this name: a file left here is stale.
        Files.deleteIfExists(socket);
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread acceptor = new Thread(this::acceptLoop, "stasis-control-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @Deactivate
    void deactivate() throws IOException {
        if (tcp != null) {
            tcp.close();
        }
        if (server == null) {
            return;
        }
        server.close();
        connections.shutdownNow();
        Files.deleteIfExists(socket);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel channel = server.accept();
                connections.execute(() -> serve(channel));
            } catch (IOException e) {
                if (server.isOpen()) {
                    System.err.println("stasis: control socket: " + e.getMessage());
                }
            }
        }
    }

    private void serve(SocketChannel channel) {
        try (channel) {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!peer.user().equals(owner)) {
                System.err.println("stasis: refused a control connection from user " + peer.user().getName());
                return;
            }
            serve(Channels.newInputStream(channel), Channels.newOutputStream(channel));
        } catch (IOException e) {
            // The client went away; nothing to tell anyone.
        }
    }

    /** One request of the control protocol, from either the Unix socket or an admitted TCP connection. */
    private void serve(InputStream in, OutputStream out) throws IOException {
        handle(readRequestLine(in), in, out);
    }

    // --listen: if it cannot bind, the coordinator stops (the launcher sees it exit) and null is returned.
    private TcpControlListener listenTcp(BundleContext context, RuntimeDirectory directory, String listen) {
        try {
            TokenFile token = TokenFile.loadOrCreate(directory.path().resolve(coordinator.name() + ".token"), owner);
            return TcpControlListener.start(ListenAddress.parse(listen), token, this::serve);
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("stasis: cannot listen on TCP " + listen + ": " + e.getMessage() + "; stopping");
            Thread stop = new Thread(() -> {
                try {
                    context.getBundle(0).stop();
                } catch (Exception ignored) {
                    // already stopping
                }
            }, "stasis-stop-after-listen-failure");
            stop.start();
            return null;
        }
    }

    private void handle(String request, InputStream in, OutputStream out) throws IOException {
        if (request.equals("PING")) {
            FrameOutputStream.exit(out, 0);
        } else if (request.startsWith("EXEC ")) {
            exec(readScript(in, request.substring(5)), out);
        } else if (request.equals("SHELL")) {
            shell(in, out);
        } else {
            new FrameOutputStream(out, 'E').write(("stasis: bad request '" + request + "'\n").getBytes(StandardCharsets.UTF_8));
            FrameOutputStream.exit(out, CommandRunner.USAGE);
        }
    }

    private void exec(String script, OutputStream connection) throws IOException {
        PrintStream out = new PrintStream(new FrameOutputStream(connection, 'O'), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FrameOutputStream(connection, 'E'), false, StandardCharsets.UTF_8);
        int status;
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), out, err)) {
            status = 0;
            for (String statement : ScriptStatements.split(script)) {
                status = CommandRunner.run(session, statement, out, err);
                if (status != 0) {
                    break;
                }
            }
        }
        out.flush();
        err.flush();
        FrameOutputStream.exit(connection, status);
    }

    private void shell(InputStream in, OutputStream connection) throws IOException {
        PrintStream out = new PrintStream(connection, true, StandardCharsets.UTF_8);
        new InteractiveSession(processor, "Stasis coordinator '" + coordinator.name()
                + "'. Type 'help' for commands, 'exit' or Ctrl-D to leave.").run(in, out);
    }

    private static String readRequestLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b == -1 || line.size() > MAX_REQUEST_LINE) {
                throw new IOException("bad request line");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static String readScript(InputStream in, String length) throws IOException {
        int size;
        try {
            size = Integer.parseInt(length.strip());
        } catch (NumberFormatException e) {
            throw new IOException("bad EXEC length");
        }
        if (size < 0 || size > MAX_SCRIPT) {
            throw new IOException("EXEC too large");
        }
        return new String(in.readNBytes(size), StandardCharsets.UTF_8);
    }

}
