package org.stasis.framework.span;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.SequenceInputStream;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.SpanOperation;

/**
 * The main coordinator's members (doc/several-hosts.md): the member coordinators that
 * joined it over TCP, the parts of its computations they hold, and the checkpoints
 * under way across them. Nothing runs here until a member joins.
 */
public final class Members {
    /** The protocol version of this build's member link. */
    public static final int VERSION = 1;
    private static final long HELLO_MILLIS = 10_000;
    private static final long KILL_MILLIS = 10_000;

    /**
     * A part a member holds.
     *
     * @param host the member's host name
     * @param part the member's computation id
     * @param computation the main's computation it is a part of
     * @param pids its processes' pids (as the member sees them)
     * @param state {@code running} or {@code lost} (its host's link was lost)
     */
    public record Part(String host, String part, String computation, List<Long> pids, String state) {
    }

    /** One member's link. */
    final class Member implements Link.Handler {
        private final String host;
        private final Link link;

        Member(String host, Link link) {
            this.host = host;
            this.link = link;
        }

        String host() {
            return host;
        }

        boolean send(ObjectNode message) {
            return link.send(message);
        }

        @Override
        public void message(ObjectNode m) {
            switch (m.path("type").asText()) {
                case "part" -> part(this, m);
                case "gone" -> gone(this, m.path("part").asText());
                case "request" -> request(this, m.path("part").asText());
                case "restarted" -> {
                    SpanMessages op = operations.get(m.path("op").asText());
                    if (op != null) {
                        op.message(this, m);
                    }
                    synchronized (restarted) {
                        restarted.put(m.path("name").asText(), m);
                        restarted.notifyAll();
                    }
                }
                case "killed" -> {
                    synchronized (killed) {
                        killed.put(host + " " + m.path("part").asText(), m.path("processes").asInt());
                        killed.notifyAll();
                    }
                }
                case "arrive", "sealed", "give", "ended" -> {
                    SpanMessages op = operations.get(m.path("op").asText());
                    if (op != null) {
                        op.message(this, m);
                    }
                }
                default -> {
                    // unknown messages are ignored (a newer member)
                }
            }
        }

        @Override
        public void lost(String why) {
            Members.this.lost(this, why);
        }
    }

    private final Supplier<String> host;
    private final Supplier<Set<String>> running;
    private final Diagnostics diagnostics;
    private final Map<String, Member> members = new ConcurrentHashMap<>();
    private final Map<String, Part> parts = new ConcurrentHashMap<>();
    private final Map<String, SpanMessages> operations = new ConcurrentHashMap<>();
    private final Set<String> expected = ConcurrentHashMap.newKeySet();
    private final Map<String, ObjectNode> restarted = new ConcurrentHashMap<>();
    private final Map<String, Integer> killed = new ConcurrentHashMap<>();
    // What this main's own member link says to be let in under the main's host name (selfKey()).
    private final String selfKey = java.util.HexFormat.of().formatHex(
            new java.security.SecureRandom().generateSeed(16));
    private volatile Requests requests = computation -> {
        throw new OperationFailedException("this coordinator takes no checkpoint requests from members", null);
    };

    /** Takes a checkpoint of one of the main's computations when a process of a part asks for one. */
    @FunctionalInterface
    public interface Requests {
        /**
         * @param computation the main's computation
         * @throws OperationFailedException if the checkpoint failed
         */
        void checkpoint(String computation) throws OperationFailedException;
    }

    /** @param handler what a member's checkpoint request (a program's stasis.checkpoint()) does */
    public void onCheckpointRequest(Requests handler) {
        this.requests = handler;
    }

    /**
     * @param host the main's own part name (its host name)
     * @param running the main's running computations
     * @param diagnostics where joins, refusals and losses are told
     */
    public Members(Supplier<String> host, Supplier<Set<String>> running, Diagnostics diagnostics) {
        this.host = host;
        this.running = running;
        this.diagnostics = diagnostics;
    }

    /**
     * Takes a connection whose request was {@code JOIN}: reads the member's hello and
     * answers it; from then on the link has threads of its own.
     *
     * @param channel the connection (blocking), owned from now on
     * @param rest bytes read after the request line
     */
    public void accept(SocketChannel channel, byte[] rest) {
        String address = addressOf(channel);
        BufferedReader in = new BufferedReader(new InputStreamReader(new SequenceInputStream(
                new ByteArrayInputStream(rest), ChannelStreams.in(channel)), StandardCharsets.UTF_8));
        Link link = new Link(address, in, ChannelStreams.out(channel), channel);
        java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
        // A peer that holds the right token but never says hello does not keep a control worker.
        java.util.concurrent.CompletableFuture.delayedExecutor(HELLO_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)
                .execute(() -> {
                    if (!answered.get()) {
                        link.close();
                    }
                });
        try {
            channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
            ObjectNode hello = link.readOne();
            answered.set(true);
            if (hello == null || !"hello".equals(hello.path("type").asText())) {
                link.close();
                return;
            }
            String name = hello.path("host").asText("");
            String why = refusal(name, hello.path("version").asInt(), hello.path("self").asText(""));
            if (why != null) {
                ObjectNode refused = Link.message("refused");
                refused.put("why", why);
                link.send(refused);
                diagnostics.warning(Diagnostics.COORDINATOR, "member", "refused the member at " + address + ": " + why);
                link.close();
                return;
            }
            Member member = new Member(name, link);
            members.put(name, member);
            ObjectNode welcome = Link.message("welcome");
            welcome.put("host", host.get());
            link.send(welcome);
            link.start(member);
            diagnostics.info(Diagnostics.COORDINATOR, "member", "host " + name + " joined from " + address);
        } catch (IOException | RuntimeException e) {
            link.close();
        }
    }

    private String refusal(String name, int version, String self) {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            return "bad host name '" + name + "'";
        }
        if (version != VERSION) {
            return "member link version " + version + ", this main speaks " + VERSION + "; run the same Stasis on both";
        }
        if (name.equals(host.get()) && !selfKey.equals(self)) {
            return "host " + name + " is the main's own name; start the member with another --host-name";
        }
        if (members.containsKey(name)) {
            return "host " + name + " has joined already; give each host its own --host-name";
        }
        return null;
    }

    /**
     * @param computation a computation of the main
     * @return the parts members hold of it, by host and part id
     */
    public List<Part> parts(String computation) {
        return parts.values().stream().filter(p -> p.computation().equals(computation))
                .sorted(Comparator.comparing(Part::host).thenComparing(Part::part)).toList();
    }

    /**
     * @return what the main's own member link says in its hello to be let in under the
     *         main's host name: it holds the parts of a restart placed on the main's host
     *         beside the main's own part, so that they stay parts of its computation
     */
    public String selfKey() {
        return selfKey;
    }

    /**
     * Kills the parts members hold of {@code computation} and waits until each said so
     * (a part whose host is lost or silent for {@code KILL_MILLIS} is left).
     *
     * @param computation a computation of the main
     * @return how many processes were killed, by host
     */
    public Map<String, Integer> kill(String computation) {
        Map<String, Integer> done = new java.util.TreeMap<>();
        java.util.Set<String> waiting = new java.util.HashSet<>();
        synchronized (killed) {
            for (Part p : parts(computation)) {
                Member member = members.get(p.host());
                ObjectNode m = Link.message("kill");
                m.put("part", p.part());
                killed.remove(p.host() + " " + p.part());
                if (member != null && member.send(m)) {
                    waiting.add(p.host() + " " + p.part());
                }
            }
            long until = System.currentTimeMillis() + KILL_MILLIS;
            while (!waiting.isEmpty() && System.currentTimeMillis() < until) {
                for (String key : List.copyOf(waiting)) {
                    Integer count = killed.remove(key);
                    if (count != null) {
                        waiting.remove(key);
                        done.merge(key.substring(0, key.indexOf(' ')), count, Integer::sum);
                    }
                }
                try {
                    killed.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        waiting.forEach(key -> diagnostics.warning(Diagnostics.COORDINATOR, "member", "part " + key.replace(' ', '/')
                + " did not say it was killed within " + KILL_MILLIS / 1000 + " s"));
        return done;
    }

    /** @return whether any member holds a part of {@code computation} */
    public boolean spans(String computation) {
        return parts.values().stream().anyMatch(p -> p.computation().equals(computation));
    }

    /**
     * The span of one checkpoint of {@code computation}: {@link SpanOperation#NONE} when
     * no member holds a part of it.
     *
     * @param computation the main's computation
     * @param full whether every part writes its images whole
     * @return the operation
     * @throws OperationFailedException if a part's host is lost: the checkpoint is refused
     */
    public SpanOperation operation(String computation, boolean full) throws OperationFailedException {
        List<Part> held = parts(computation);
        if (held.isEmpty()) {
            return SpanOperation.NONE;
        }
        List<MainOperation.Target> targets = new ArrayList<>();
        for (Part p : held) {
            Member member = members.get(p.host());
            if (member == null || !"running".equals(p.state())) {
                throw new OperationFailedException("checkpoint of " + computation + " refused: part " + p.part()
                        + " on host " + p.host() + " is unreachable (its link was lost); nothing was written", null);
            }
            // on the main's host the main's own part has the host's name already
            boolean alone = !p.host().equals(host.get())
                    && held.stream().filter(o -> o.host().equals(p.host())).count() == 1;
            targets.add(new MainOperation.Target(member, p.part(), alone ? p.host() : p.host() + "-" + p.part()));
        }
        return new MainOperation(this, computation, host.get(), targets, full);
    }

    /**
     * Starts a restart across hosts: asks each member for the parts placed on it (without
     * waiting: every part restarts at the same time, several on one host each with its
     * own restorer), and returns the spans of the parts placed on this host. A member's
     * failure is logged.
     *
     * @param op the operation's id
     * @param placed part name to host, every part
     * @param paths part name to checkpoint directory
     * @param computation the main's computation the member parts join again, or empty
     * @param choices the user's --trust, --no-verify, --no-prefetch, for every part
     * @param mainPart the main's own part: the only one this main restarts itself when its
     *        own member link has joined (the others placed here go to that link, to stay parts)
     * @return part name to its span, for each part restarted on this host (its restart must use it)
     * @throws IOException if a member is not joined; nothing was started
     */
    public Map<String, SpanOperation> restartAcross(String op, Map<String, String> placed, Map<String, String> paths,
            String computation, RestartChoices choices, String mainPart) throws IOException {
        Map<String, Member> on = new java.util.LinkedHashMap<>();
        java.util.Set<String> own = new java.util.LinkedHashSet<>();
        for (Map.Entry<String, String> e : placed.entrySet()) {
            boolean here = e.getValue().equals(host.get());
            if (here && (e.getKey().equals(mainPart) || !members.containsKey(host.get()))) {
                own.add(e.getKey());
                continue;
            }
            Member member = members.get(e.getValue());
            if (member == null) {
                throw new IOException("host " + e.getValue() + " is not joined (any more); nothing was started");
            }
            on.put(e.getKey(), member);
        }
        RestartGathering gathering = new RestartGathering(this, op, own, List.copyOf(placed.keySet()), on);
        register(op, gathering);
        for (Map.Entry<String, Member> e : on.entrySet()) {
            ObjectNode m = Link.message("restart");
            m.put("op", op);
            m.put("name", e.getKey());
            m.put("path", paths.get(e.getKey()));
            m.put("computation", computation);
            choices.write(m);
            placed.keySet().forEach(m.putArray("parts")::add);
            e.getValue().send(m);
        }
        Thread watch = new Thread(() -> awaitRestarted(op, on), "stasis-span-restart-" + op);
        watch.setDaemon(true);
        watch.start();
        Map<String, SpanOperation> spans = new java.util.LinkedHashMap<>();
        own.forEach(name -> spans.put(name, gathering.span(name)));
        return spans;
    }

    // The members' answers: a part that could not restart is told on the main's log.
    private void awaitRestarted(String op, Map<String, Member> on) {
        java.util.Set<String> waiting = new java.util.HashSet<>(on.keySet());
        long until = System.currentTimeMillis() + 300_000;
        synchronized (restarted) {
            while (!waiting.isEmpty() && System.currentTimeMillis() < until) {
                for (String name : List.copyOf(waiting)) {
                    ObjectNode answer = restarted.get(name);
                    if (answer != null && op.equals(answer.path("op").asText())) {
                        restarted.remove(name);
                        waiting.remove(name);
                        if (!answer.path("ok").asBoolean(false)) {
                            diagnostics.warning(Diagnostics.COORDINATOR, "restart", "part " + name + " on host "
                                    + on.get(name).host() + " could not restart: " + answer.path("why").asText("?"));
                        }
                    } else if (members.get(on.get(name).host()) != on.get(name)) {
                        waiting.remove(name);
                        diagnostics.warning(Diagnostics.COORDINATOR, "restart", "part " + name + " on host "
                                + on.get(name).host() + ": the link was lost during the restart");
                    }
                }
                try {
                    restarted.wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** @return the hosts that can restart a part: this main's and every joined member's */
    public Set<String> hosts() {
        Set<String> all = new java.util.TreeSet<>(members.keySet());
        all.add(host.get());
        return all;
    }

    /**
     * A restart under way will run {@code computation} here: members' parts may join it
     * before its processes are back.
     *
     * @param computation the computation id
     */
    public void expect(String computation) {
        expected.add(computation);
        // Parts of the computation's previous run are no parts of the restarted one (a member
        // may not have told yet that the kill ended them): its checkpoints must not ask for them.
        parts.entrySet().removeIf(e -> {
            Part p = e.getValue();
            if (!p.computation().equals(computation)) {
                return false;
            }
            diagnostics.info(Diagnostics.COORDINATOR, "member", "part " + p.part() + " on host " + p.host()
                    + " belonged to the previous run of computation " + computation + ", which is restarted: it is"
                    + " no part of it any more");
            return true;
        });
    }

    /**
     * Has a member restart one part of a checkpoint that spans hosts, and waits until it runs.
     *
     * @param host the member's host
     * @param name the part's name
     * @param path the part's checkpoint directory (as the member sees it)
     * @param computation the main's computation the restarted part joins, or empty for none
     * @param choices the user's --trust, --no-verify, --no-prefetch
     * @throws IOException with one line if the member is gone or its restart failed
     */
    public void restartOn(String host, String name, String path, String computation, RestartChoices choices)
            throws IOException {
        Member member = members.get(host);
        if (member == null) {
            throw new IOException("host " + host + " is not joined (any more)");
        }
        ObjectNode m = Link.message("restart");
        m.put("name", name);
        m.put("path", path);
        m.put("computation", computation);
        choices.write(m);
        ObjectNode answer;
        synchronized (restarted) {
            restarted.remove(name);
            if (!member.send(m)) {
                throw new IOException("the link to host " + host + " is lost");
            }
            long until = System.currentTimeMillis() + 300_000;
            while (!restarted.containsKey(name) && members.get(host) == member && System.currentTimeMillis() < until) {
                try {
                    restarted.wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
            }
            answer = restarted.remove(name);
        }
        if (answer == null) {
            throw new IOException("host " + host + " did not restart part " + name + " (its link was lost or it took"
                    + " over 5 minutes)");
        }
        if (!answer.path("ok").asBoolean(false)) {
            throw new IOException("host " + host + " could not restart part " + name + ": "
                    + answer.path("why").asText("?"));
        }
    }

    void register(String op, SpanMessages operation) {
        operations.put(op, operation);
    }

    void unregister(String op, SpanMessages operation) {
        operations.remove(op, operation);
    }

    private void part(Member member, ObjectNode m) {
        String part = m.path("part").asText();
        String key = member.host() + "/" + part;
        List<Long> pids = new ArrayList<>();
        m.path("pids").forEach(p -> pids.add(p.asLong()));
        Part known = parts.get(key);
        if (known != null) {
            // an update of its pids, or a member that joined again after its link was lost
            parts.put(key, new Part(known.host(), part, known.computation(), List.copyOf(pids), "running"));
            if (!"running".equals(known.state())) {
                diagnostics.info(Diagnostics.COORDINATOR, "member", "part " + part + " on host " + member.host()
                        + " is back (its host joined again)");
            }
            return;
        }
        String wanted = m.path("computation").asText("");
        Set<String> live = running.get();
        String why = null;
        String computation = wanted;
        if (wanted.isEmpty()) {
            if (live.size() == 1) {
                computation = live.iterator().next();
            } else {
                why = live.isEmpty() ? "the main coordinator runs no computation to join; launch one there first"
                        : "the main coordinator runs " + live.size() + " computations (" + String.join(", ", live)
                                + "); choose one with --computation ID";
            }
        } else if (!live.contains(wanted) && !expected.contains(wanted)) {
            why = "the main coordinator runs no computation " + wanted + " (running: "
                    + (live.isEmpty() ? "none" : String.join(", ", live)) + ")";
        }
        ObjectNode answer = Link.message(why == null ? "joined" : "refused");
        answer.put("part", part);
        if (why == null) {
            answer.put("computation", computation);
            parts.put(key, new Part(member.host(), part, computation, List.copyOf(pids), "running"));
            diagnostics.info(Diagnostics.COORDINATOR, "member", "part " + part + " on host " + member.host()
                    + " joined computation " + computation);
        } else {
            answer.put("why", why);
        }
        member.send(answer);
    }

    // A program of a part called stasis.checkpoint(): the whole computation is checkpointed, on its own thread.
    private void request(Member member, String part) {
        Part held = parts.get(member.host() + "/" + part);
        Thread thread = new Thread(() -> {
            ObjectNode answer = Link.message("requested");
            answer.put("part", part);
            try {
                if (held == null) {
                    throw new OperationFailedException("part " + part + " of host " + member.host()
                            + " is no part of a computation here", null);
                }
                requests.checkpoint(held.computation());
                answer.put("ok", true);
            } catch (OperationFailedException | RuntimeException e) {
                answer.put("ok", false);
                answer.put("why", String.valueOf(e.getMessage()));
                diagnostics.warning(Diagnostics.COORDINATOR, "requested", "checkpoint requested by a process of part "
                        + part + " on host " + member.host() + " failed: " + e.getMessage());
            }
            member.send(answer);
        }, "stasis-span-request");
        thread.setDaemon(true);
        thread.start();
    }

    private void gone(Member member, String part) {
        if (parts.remove(member.host() + "/" + part) != null) {
            diagnostics.info(Diagnostics.COORDINATOR, "member", "part " + part + " on host " + member.host()
                    + " ended (its processes exited)");
        }
    }

    private void lost(Member member, String why) {
        members.remove(member.host(), member);
        boolean held = false;
        for (Map.Entry<String, Part> e : parts.entrySet()) {
            Part p = e.getValue();
            if (p.host().equals(member.host())) {
                held = true;
                e.setValue(new Part(p.host(), p.part(), p.computation(), p.pids(), "lost"));
            }
        }
        operations.values().forEach(op -> op.lost(member, why));
        if (held) {
            diagnostics.warning(Diagnostics.COORDINATOR, "member", "lost the link to host " + member.host() + ": " + why
                    + "; its parts cannot be checkpointed until it joins again");
        } else {
            diagnostics.info(Diagnostics.COORDINATOR, "member", "host " + member.host() + " left (" + why + ")");
        }
    }

    private static String addressOf(SocketChannel channel) {
        try {
            return channel.getRemoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() + ":"
                    + a.getPort() : "local";
        } catch (IOException e) {
            return "?";
        }
    }
}
