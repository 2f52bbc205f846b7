package org.stasis.framework.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.dispatch.EventLog;

/**
 * The registry of agents over a real Unix socket. Every connection here comes from this
 * JVM, so to the registry they are one process registering again, as after an exec.
 */
class AgentRegistryTest {
    private static final String HELLO = "HELLO pid=2 ppid=1 exe=/usr/bin/python3\n";

    @TempDir
    Path dir;

    /**
     * `env` exec'd `sh` exec'd `python3`: each image registered, each registration on a
     * handshake thread of its own. When an earlier image's registration comes through
     * after the live one's (its process exec'd meanwhile, so its end is closed), it must
     * not replace the live agent: that closed the live agent's connection, and the
     * process was later dropped from a checkpoint as if it had left the computation
     * (ipyparallel engines across hosts, issue #16).
     */
    @Test
    void aLateRegistrationOfAnImageBeforeAnExecLeavesTheLiveAgentRegistered() throws Exception {
        EventLog log = new EventLog(100);
        Diagnostics diagnostics = new Diagnostics(log, new PrintStream(OutputStream.nullOutputStream()));
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        try (AgentRegistry registry = new AgentRegistry(dir.resolve("agent.sock"), uid, diagnostics);
                SocketChannel live = connect()) {
            write(live, HELLO);
            registry.await(agent -> true, Duration.ofSeconds(30));
            // Holding the registry's lock keeps the late registration from being looked at
            // until its peer has closed, as it had when its process exec'd.
            synchronized (registry) {
                try (SocketChannel late = connect()) {
                    write(late, HELLO);
                }
            }
            awaitLogged(log, "the earlier one is ignored");

            List<Agent> agents = registry.agents();
            assertEquals(1, agents.size(), agents.toString());
            CompletableFuture<Void> answer = CompletableFuture.runAsync(() -> answerPing(live));
            assertEquals("PONG", agents.get(0).request("PING", Duration.ofSeconds(30)));
            answer.get();
        }
    }

    private SocketChannel connect() throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("agent.sock")));
    }

    private static void write(SocketChannel channel, String text) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private static void answerPing(SocketChannel channel) {
        try {
            ByteBuffer in = ByteBuffer.allocate(5);
            while (in.hasRemaining() && channel.read(in) >= 0) {
                // until "PING\n"
            }
            assertEquals("PING\n", new String(in.array(), StandardCharsets.UTF_8));
            write(channel, "PONG\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // The late registration is looked at on the registry's own thread: wait until it
    // was (a registry without the fix never logs this; the assertions then fail).
    private static void awaitLogged(EventLog log, String text) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (log.recent(100).stream().anyMatch(e -> e.message().contains(text))) {
                return;
            }
            Thread.sleep(50);
        }
    }
}
