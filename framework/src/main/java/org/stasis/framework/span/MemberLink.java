package org.stasis.framework.span;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.SpanOperation;

/**
 * A member coordinator's link to its main (doc/several-hosts.md): every computation it
 * runs is a part of one of the main's computations; the main's checkpoints take these
 * parts, each through the member's ordinary checkpoint lifecycle.
 */
public final class MemberLink implements Link.Handler, AutoCloseable {
    private static final int CONNECT_MILLIS = 10_000;
    private static final long ANSWER_MILLIS = 10_000;
    private static final long REQUEST_MILLIS = 600_000;
    private static final long RECONNECT_MILLIS = 2_000;

    /** What the member's coordinator does for the link. */
    public interface Parts {
        /** @return a new computation id for a part */
        String reserve();

        /**
         * @param part a computation id
         * @return its live processes' pids
         */
        List<Long> pids(String part);

        /**
         * Checkpoints a part as one part of the main's checkpoint.
         *
         * @param part the part's computation id
         * @param full write every image whole
         * @param span the barriers and exchanges with the other parts
         * @throws OperationFailedException if it failed
         */
        void checkpoint(String part, boolean full, SpanOperation span) throws OperationFailedException;

        /**
         * Kills every process of a part at once (the main's {@code stasis kill}).
         *
         * @param part the part's computation id
         * @return how many processes were killed
         */
        int kill(String part);

        /**
         * Restarts a part's checkpoint here, in the background, and returns once it runs.
         *
         * @param checkpoint the part's checkpoint directory
         * @param choices the user's --trust, --no-verify, --no-prefetch
         * @return the restarted computation's id here
         * @throws Exception with one line if it cannot be restarted
         */
        String restart(Path checkpoint, RestartChoices choices, SpanOperation span) throws Exception;
    }

    /** A part registered at the main. */
    private static final class Registered {
        final String part;
        volatile String computation;
        volatile List<Long> pids = List.of();
        volatile boolean seen;

        Registered(String part) {
            this.part = part;
        }
    }

    private final String address;
    private final String host;
    private volatile Link link;
    private final Path tokenFile;
    private final String selfKey;
    private volatile boolean closed;
    private final Parts parts;
    private final Diagnostics diagnostics;
    private final Map<String, Registered> registered = new ConcurrentHashMap<>();
    private final Map<String, ObjectNode> answers = new ConcurrentHashMap<>();
    private final Map<String, List<MemberOperation>> operations = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watcher;
    private volatile String lost;

    private MemberLink(String address, Path tokenFile, String selfKey, String host, Link link, Parts parts,
            Diagnostics diagnostics) {
        this.address = address;
        this.tokenFile = tokenFile;
        this.selfKey = selfKey;
        this.host = host;
        this.link = link;
        this.parts = parts;
        this.diagnostics = diagnostics;
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "stasis-span-parts");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Joins the main: the token line, {@code JOIN}, hello, and the main's welcome.
     *
     * @param address the main's {@code HOST:PORT}
     * @param tokenFile the file with the main's token
     * @param host this host's name
     * @param parts the member coordinator's side
     * @param diagnostics where the link's events are told
     * @return the joined link
     * @throws IOException with one line if the main cannot be reached or refused the link
     */
    public static MemberLink join(String address, Path tokenFile, String host, Parts parts, Diagnostics diagnostics)
            throws IOException {
        return join(address, tokenFile, "", host, parts, diagnostics);
    }

    /**
     * A main's link to itself: it holds the parts of a restart that were placed on the
     * main's host beside the main's own part (each its own computation and pid namespace
     * here), so that they stay parts of the main's computation.
     *
     * @param address the main's own control address
     * @param tokenFile the main's token
     * @param selfKey {@link Members#selfKey()}: lets it in under the main's host name
     * @param host the main's host name
     * @param parts the main coordinator's side as a member
     * @param diagnostics where the link's events are told
     * @return the joined link
     * @throws IOException with one line if the main's own listener refused it
     */
    public static MemberLink joinSelf(String address, Path tokenFile, String selfKey, String host, Parts parts,
            Diagnostics diagnostics) throws IOException {
        return join(address, tokenFile, selfKey, host, parts, diagnostics);
    }

    private static MemberLink join(String address, Path tokenFile, String selfKey, String host, Parts parts,
            Diagnostics diagnostics) throws IOException {
        Link link = connect(address, tokenFile, selfKey, host);
        MemberLink member = new MemberLink(address, tokenFile, selfKey, host, link, parts, diagnostics);
        link.start(member);
        member.watcher.scheduleWithFixedDelay(member::watch, 1, 1, TimeUnit.SECONDS);
        return member;
    }

    // The handshake: token line, JOIN, hello, and the main's welcome.
    private static Link connect(String address, Path tokenFile, String selfKey, String host) throws IOException {
        String token;
        try {
            token = Files.readString(tokenFile).strip();
        } catch (IOException e) {
            throw new IOException("cannot read the main's token from " + tokenFile + ": " + e.getMessage()
                    + " (copy the main's <runtime dir>/<name>.token here and pass --token-file)");
        }
        int colon = address.lastIndexOf(':');
        if (colon <= 0) {
            throw new IOException("bad main address '" + address + "'; give HOST:PORT");
        }
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(address.substring(0, colon),
                    Integer.parseInt(address.substring(colon + 1))), CONNECT_MILLIS);
            socket.setSoTimeout((int) ANSWER_MILLIS + 6_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.UTF_8));
            Link link = new Link("main " + address, in, out, socket);
            out.write(("TOKEN " + token + "\nJOIN\n").getBytes(StandardCharsets.US_ASCII));
            ObjectNode hello = Link.message("hello");
            hello.put("host", host);
            hello.put("version", Members.VERSION);
            if (!selfKey.isEmpty()) {
                hello.put("self", selfKey);
            }
            link.send(hello);
            ObjectNode answer = link.readOne();
            if (answer == null) {
                throw new IOException("the main coordinator at " + address + " closed the link without answering: it"
                        + " refused the token from " + tokenFile + " (wrong token? the main logs refusals) or it is"
                        + " stopping");
            }
            if (!"welcome".equals(answer.path("type").asText())) {
                throw new IOException("the main coordinator at " + address + " refused this host: "
                        + answer.path("why").asText("no reason given"));
            }
            socket.setSoTimeout(0);
            return link;
        } catch (IOException | RuntimeException e) {
            socket.close();
            if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("the main")) {
                throw io;
            }
            throw new IOException("cannot join the main coordinator at " + address + ": " + e.getMessage(), e);
        }
    }

    /** @return this host's name in the computations */
    public String host() {
        return host;
    }

    /** @return the main's address */
    public String main() {
        return address;
    }

    /** @return why the link to the main was lost, or null while it is up */
    public String lostWhy() {
        return lost;
    }

    /**
     * A new part: reserves a computation id here and registers it at the main as a part
     * of {@code computation}.
     *
     * @param computation the main's computation, empty for its only one
     * @return the part's computation id here
     * @throws IOException with one line if the main refused it
     */
    public String launch(String computation) throws IOException {
        if (lost != null) {
            throw new IOException("the link to the main coordinator at " + address + " is lost (" + lost
                    + "); restart this member coordinator");
        }
        String part = parts.reserve();
        ObjectNode m = Link.message("part");
        m.put("computation", computation);
        m.put("part", part);
        m.putArray("pids");
        synchronized (answers) {
            link.send(m);
            long until = System.currentTimeMillis() + ANSWER_MILLIS;
            while (!answers.containsKey(part) && lost == null && System.currentTimeMillis() < until) {
                try {
                    answers.wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
            }
        }
        ObjectNode answer = answers.remove(part);
        if (answer == null) {
            throw new IOException("the main coordinator at " + address + " did not answer the join of part " + part);
        }
        if (!"joined".equals(answer.path("type").asText())) {
            throw new IOException("the main coordinator at " + address + " refused the part: "
                    + answer.path("why").asText("no reason given"));
        }
        Registered r = new Registered(part);
        r.computation = answer.path("computation").asText();
        registered.put(part, r);
        return part;
    }

    /**
     * A process of a part asked for a checkpoint (stasis.checkpoint()): the main takes one
     * of its whole computation, this part with it. One request per part at a time.
     *
     * @param part the part's computation id here
     * @throws IOException with one line if the main is lost or the checkpoint failed
     */
    public void requestCheckpoint(String part) throws IOException {
        String key = "request " + part;
        ObjectNode m = Link.message("request");
        m.put("part", part);
        synchronized (answers) {
            answers.remove(key);
            if (lost != null || !link.send(m)) {
                throw new IOException("the link to the main coordinator at " + address + " is lost");
            }
            long until = System.currentTimeMillis() + REQUEST_MILLIS;
            while (!answers.containsKey(key) && lost == null && System.currentTimeMillis() < until) {
                try {
                    answers.wait(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
            }
        }
        ObjectNode answer = answers.remove(key);
        if (answer == null) {
            throw new IOException("the main coordinator at " + address + " did not take the checkpoint"
                    + (lost != null ? ": its link is lost" : " within " + REQUEST_MILLIS / 1000 + " s"));
        }
        if (!answer.path("ok").asBoolean(false)) {
            throw new IOException("the main coordinator's checkpoint failed: " + answer.path("why").asText("?"));
        }
    }

    /**
     * @param part a computation id here
     * @return the main's computation it is a part of, or null if it is no part
     */
    public String computationOf(String part) {
        Registered r = registered.get(part);
        return r == null ? null : r.computation;
    }

    @Override
    public void message(ObjectNode m) {
        switch (m.path("type").asText()) {
            case "joined", "refused" -> {
                synchronized (answers) {
                    answers.put(m.path("part").asText(), m);
                    answers.notifyAll();
                }
            }
            case "checkpoint" -> checkpoint(m);
            case "kill" -> {
                ObjectNode answer = Link.message("killed");
                answer.put("part", m.path("part").asText());
                answer.put("processes", registered.containsKey(m.path("part").asText())
                        ? parts.kill(m.path("part").asText()) : 0);
                link.send(answer);
            }
            case "restart" -> restart(m);
            case "requested" -> {
                synchronized (answers) {
                    answers.put("request " + m.path("part").asText(), m);
                    answers.notifyAll();
                }
            }
            case "go", "commit", "abort", "take" -> operations.getOrDefault(m.path("op").asText(), List.of())
                    .forEach(op -> op.message(m));
            default -> {
                // unknown messages are ignored (a newer main)
            }
        }
    }

    @Override
    public void lost(String why) {
        lost = why;
        if (closed) {
            return;
        }
        diagnostics.warning(Diagnostics.COORDINATOR, "member", "lost the link to the main coordinator at " + address
                + ": " + why + "; the processes run on, checkpoints of their parts are refused until it joins again");
        operations.values().forEach(ops -> ops.forEach(op -> op.lost(why)));
        synchronized (answers) {
            answers.notifyAll();
        }
        watcher.schedule(this::reconnect, RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void checkpoint(ObjectNode m) {
        String op = m.path("op").asText();
        String part = m.path("part").asText();
        List<String> names = new ArrayList<>();
        m.path("parts").forEach(n -> names.add(n.asText()));
        MemberOperation operation = new MemberOperation(link, op, part, m.path("name").asText(host), names);
        operations.computeIfAbsent(op, k -> new CopyOnWriteArrayList<>()).add(operation);
        Thread thread = new Thread(() -> {
            try {
                if (!registered.containsKey(part)) {
                    throw new OperationFailedException("no part " + part + " on host " + host, null);
                }
                parts.checkpoint(part, m.path("full").asBoolean(false), operation);
            } catch (OperationFailedException | RuntimeException e) {
                operation.abort(String.valueOf(e.getMessage()));
                diagnostics.warning(Diagnostics.COORDINATOR, "member", "part " + part + " of checkpoint " + op
                        + " failed: " + e.getMessage());
            } finally {
                List<MemberOperation> ops = operations.get(op);
                if (ops != null) {
                    ops.remove(operation);
                    if (ops.isEmpty()) {
                        operations.remove(op);
                    }
                }
            }
        }, "stasis-span-checkpoint-" + op);
        thread.setDaemon(true);
        thread.start();
    }

    // One part placed on this host by the main's stasis restart --hosts: restarted, then joined again.
    private void restart(ObjectNode m) {
        Thread thread = new Thread(() -> {
            ObjectNode answer = Link.message("restarted");
            String name = m.path("name").asText();
            String op = m.path("op").asText("");
            answer.put("name", name);
            answer.put("op", op);
            SpanOperation span = SpanOperation.NONE;
            MemberOperation operation = null;
            if (!op.isEmpty()) {
                List<String> names = new ArrayList<>();
                m.path("parts").forEach(n -> names.add(n.asText()));
                operation = new MemberOperation(link, op, name, name, names);
                operations.computeIfAbsent(op, k -> new CopyOnWriteArrayList<>()).add(operation);
                span = operation;
            }
            try {
                String id = parts.restart(Path.of(m.path("path").asText()), RestartChoices.read(m), span);
                String whole = m.path("computation").asText("");
                if (!whole.isEmpty()) {
                    // Its processes ran when the restart returned: registered with them, so that the watch
                    // says `gone` once they exit, also if they are killed before its first look (a part
                    // never seen running was never said gone, and the main kept it as a part for good).
                    Registered r = new Registered(id);
                    r.computation = whole;
                    r.pids = parts.pids(id);
                    r.seen = true;
                    registered.put(id, r);
                    ObjectNode part = Link.message("part");
                    part.put("computation", whole);
                    part.put("part", id);
                    r.pids.forEach(part.putArray("pids")::add);
                    link.send(part);
                }
                answer.put("ok", true);
                answer.put("part", id);
            } catch (Exception e) {
                answer.put("ok", false);
                answer.put("why", String.valueOf(e.getMessage()));
            } finally {
                if (operation != null) {
                    List<MemberOperation> ops = operations.get(op);
                    if (ops != null) {
                        ops.remove(operation);
                    }
                }
            }
            link.send(answer);
        }, "stasis-span-restart");
        thread.setDaemon(true);
        thread.start();
    }

    // Tells the main each part's processes as they change, and that a part ended once they all exited.
    private void watch() {
        try {
            for (Registered r : registered.values()) {
                List<Long> now = parts.pids(r.part);
                if (now.isEmpty() && r.seen) {
                    registered.remove(r.part);
                    ObjectNode gone = Link.message("gone");
                    gone.put("part", r.part);
                    link.send(gone);
                    continue;
                }
                if (now.equals(r.pids)) {
                    continue;
                }
                r.pids = now;
                r.seen = true;
                ObjectNode m = Link.message("part");
                m.put("computation", r.computation);
                m.put("part", r.part);
                now.forEach(m.putArray("pids")::add);
                link.send(m);
            }
        } catch (RuntimeException e) {
            // the next round tries again
        }
    }

    // Joins the main again (every RECONNECT_MILLIS) and tells it the parts this host still runs.
    private void reconnect() {
        if (closed) {
            return;
        }
        Link again;
        try {
            again = connect(address, tokenFile, selfKey, host);
        } catch (IOException e) {
            watcher.schedule(this::reconnect, RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        link = again;
        lost = null;
        again.start(this);
        for (Registered r : registered.values()) {
            ObjectNode m = Link.message("part");
            m.put("computation", r.computation);
            m.put("part", r.part);
            r.pids.forEach(m.putArray("pids")::add);
            again.send(m);
        }
        diagnostics.info(Diagnostics.COORDINATOR, "member", "joined the main coordinator at " + address
                + " again as host " + host + " (" + registered.size() + " part" + (registered.size() == 1 ? "" : "s")
                + ")");
    }

    @Override
    public void close() {
        closed = true;
        watcher.shutdownNow();
        link.close();
    }
}
