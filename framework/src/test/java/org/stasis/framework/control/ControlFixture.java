package org.stasis.framework.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;

/**
 * A real control hub on a Unix socket in a temporary directory, serving a real Gogo
 * command processor with a few test commands, and a client that speaks the protocol.
 */
final class ControlFixture implements AutoCloseable {
    /** Commands the tests run in the coordinator's shell. */
    public static final class Commands {
        final AtomicInteger marks = new AtomicInteger();
        final CountDownLatch blocked = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        public String mark() {
            marks.incrementAndGet();
            return "marked";
        }

        public String block() throws InterruptedException {
            blocked.countDown();
            release.await(30, TimeUnit.SECONDS);
            return "released";
        }

        public int recurse(int n) {
            return recurse(n + 1) + 1;
        }
    }

    /** A reply: what came in E frames, and the X status (-1 if the connection closed without one). */
    record Reply(String out, String err, int status) {
    }

    final Path directory;
    final Path socket;
    final Commands commands = new Commands();
    final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    final ConnectionHub hub;
    private final ThreadIOImpl threadIo = new ThreadIOImpl();
    private final RequestServer requests;
    private final List<SocketChannel> clients = new ArrayList<>();

    ControlFixture(HubLimits limits, TokenGate gate, ServerSocketChannel tcp) throws IOException {
        directory = Files.createTempDirectory("stasis-control-test");
        socket = directory.resolve("test.sock");
        threadIo.start();
        CommandProcessorImpl processor = new CommandProcessorImpl(threadIo);
        for (String function : List.of("mark", "block", "recurse")) {
            processor.addCommand("test", commands, function);
        }
        requests = new RequestServer(processor, "test shell", limits.shellIdleMillis());
        RateLimitedLog log = new RateLimitedLog(new java.io.PrintStream(logged, true, StandardCharsets.UTF_8),
                10_000, 5, System::currentTimeMillis);
        hub = new ConnectionHub(limits, new Workers(limits, requests::serve), Files.getOwner(directory), gate, log,
                ControlServer.busyLine("test"));
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket), 2048);
        hub.listen(server, false);
        if (tcp != null) {
            hub.listen(tcp, true);
        }
        hub.start();
    }

    ControlFixture(HubLimits limits) throws IOException {
        this(limits, null, null);
    }

    /** @return a new connection, closed with the fixture */
    synchronized SocketChannel connect() throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        clients.add(channel);
        return channel;
    }

    /** Sends bytes on a new connection and reads the reply to its end. */
    Reply exchange(String request) throws IOException {
        try (SocketChannel channel = connect()) {
            send(channel, request);
            return read(channel);
        }
    }

    static String exec(String script) {
        return "EXEC " + script.getBytes(StandardCharsets.UTF_8).length + "\n" + script;
    }

    static void send(SocketChannel channel, String text) throws IOException {
        Channels.newOutputStream(channel).write(text.getBytes(StandardCharsets.UTF_8));
    }

    static Reply read(SocketChannel channel) throws IOException {
        return parse(Channels.newInputStream(channel));
    }

    static Reply parse(InputStream in) throws IOException {
        StringBuilder out = new StringBuilder();
        StringBuilder err = new StringBuilder();
        while (true) {
            StringBuilder header = new StringBuilder();
            int b;
            try {
                while ((b = in.read()) != '\n') {
                    if (b < 0) {
                        return new Reply(out.toString(), err.toString(), -1);
                    }
                    header.append((char) b);
                }
            } catch (IOException e) {
                return new Reply(out.toString(), err.toString(), -1);
            }
            String[] parts = header.toString().split(" ");
            String payload = new String(in.readNBytes(Integer.parseInt(parts[1])), StandardCharsets.UTF_8);
            switch (parts[0]) {
                case "O" -> out.append(payload);
                case "E" -> err.append(payload);
                default -> {
                    return new Reply(out.toString(), err.toString(), Integer.parseInt(payload));
                }
            }
        }
    }

    String log() {
        return logged.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        commands.release.countDown();
        synchronized (this) {
            for (SocketChannel client : clients) {
                client.close();
            }
        }
        hub.close();
        requests.close();
        threadIo.stop();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(directory);
    }
}
