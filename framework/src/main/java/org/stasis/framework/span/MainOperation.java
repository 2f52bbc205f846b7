package org.stasis.framework.span;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.stasis.api.LifecycleEvent;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.SpanOperation;
import org.stasis.framework.store.Manifest;

/**
 * The main's side of one checkpoint of a computation that spans hosts: asks every
 * member holding a part, holds each barrier until every part arrived, gathers the
 * exchanges, and commits or aborts every part.
 */
final class MainOperation implements SpanOperation, SpanMessages {
    /** Time an exchange may take before the operation aborts. */
    static final long EXCHANGE_MILLIS = 30_000;

    /**
     * A member's part in this operation.
     *
     * @param member the member's link
     * @param part the member's computation id
     * @param name the part's name in the computation
     */
    record Target(Members.Member member, String part, String name) {
    }

    private final Members members;
    private final String computation;
    private final String mainPart;
    private final List<Target> targets;
    private final boolean full;
    private final List<String> parts;
    private final Gathering gathering;
    private final Map<Barrier, Set<String>> arrived = new EnumMap<>(Barrier.class);
    private final Map<String, PartCheckpoint> written = new LinkedHashMap<>();
    private String op;
    private String failure;
    private boolean committed;

    MainOperation(Members members, String computation, String mainPart, List<Target> targets, boolean full) {
        this.members = members;
        this.computation = computation;
        this.mainPart = mainPart;
        this.targets = List.copyOf(targets);
        this.full = full;
        List<String> names = new ArrayList<>();
        names.add(mainPart);
        targets.forEach(t -> names.add(t.name()));
        this.parts = List.copyOf(names);
        this.gathering = new Gathering(parts);
    }

    @Override
    public boolean spans() {
        return true;
    }

    @Override
    public String part() {
        return mainPart;
    }

    @Override
    public List<String> parts() {
        return parts;
    }

    @Override
    public void begin(String checkpointId, long generation) throws OperationFailedException {
        synchronized (this) {
            this.op = checkpointId;
        }
        members.register(checkpointId, this);
        for (Target t : targets) {
            ObjectNode m = Link.message("checkpoint");
            m.put("op", checkpointId);
            m.put("computation", computation);
            m.put("part", t.part());
            m.put("name", t.name());
            m.put("full", full);
            m.put("generation", generation);
            parts.forEach(m.putArray("parts")::add);
            if (!t.member().send(m)) {
                fail("cannot ask host " + t.member().host() + " for its part " + t.part() + ": its link is lost");
            }
        }
        check();
    }

    @Override
    public void reach(Barrier barrier, PartCheckpoint mine) throws OperationFailedException {
        synchronized (this) {
            while (failure == null && !arrived.getOrDefault(barrier, Set.of()).containsAll(memberNames())) {
                try {
                    wait(1_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failure = "interrupted at the barrier '" + barrier.wire() + "'";
                }
            }
            check();
            if (barrier == Barrier.SEALED) {
                committed = true;
            }
        }
        for (Target t : targets) {
            ObjectNode m = Link.message(barrier == Barrier.SEALED ? "commit" : "go");
            m.put("op", op);
            m.put("barrier", barrier.wire());
            t.member().send(m);
        }
    }

    @Override
    public Map<String, byte[]> exchange(String plugin, LifecycleEvent event, String topic, byte[] mine)
            throws IOException {
        return gathering.exchange(mainPart, plugin, event.name(), topic, mine, this::fail);
    }

    @Override
    public void ended(String plugin, LifecycleEvent event) {
        gathering.ended(mainPart, plugin, event.name());
    }

    @Override
    public synchronized List<Manifest.Part> members() {
        List<Manifest.Part> out = new ArrayList<>();
        for (Target t : targets) {
            PartCheckpoint c = written.get(t.name());
            if (c != null) {
                out.add(new Manifest.Part(t.name(), t.member().host(), c.id(), c.path(), c.processes()));
            }
        }
        return out;
    }

    @Override
    public void abort(String why) {
        synchronized (this) {
            if (committed || op == null) {
                return;
            }
            if (failure == null) {
                failure = why;
            }
        }
        gathering.fail(new IOException(why));
        for (Target t : targets) {
            ObjectNode m = Link.message("abort");
            m.put("op", op);
            m.put("why", why);
            t.member().send(m);
        }
    }

    @Override
    public void end() {
        String id;
        synchronized (this) {
            id = op;
        }
        if (id != null) {
            members.unregister(id, this);
        }
    }

    /** A message of the operation from a member. */
    @Override
    public void message(Members.Member from, ObjectNode m) {
        String name = nameOf(from, m.path("part").asText());
        if (name == null) {
            return;
        }
        switch (m.path("type").asText()) {
            case "arrive" -> arrive(name, from, m);
            case "sealed" -> arrived(Barrier.SEALED, name);
            case "give" -> give(name, from, m);
            case "ended" -> gathering.ended(name, m.path("plugin").asText(), m.path("event").asText());
            default -> {
                // not for an operation
            }
        }
    }

    /** @param member a member whose link was lost */
    @Override
    public void lost(Members.Member member, String why) {
        if (targets.stream().anyMatch(t -> t.member() == member)) {
            fail("the link to host " + member.host() + " was lost (" + why + ")");
        }
    }

    private void arrive(String name, Members.Member from, ObjectNode m) {
        if (!m.path("ok").asBoolean(false)) {
            fail("part " + name + " on host " + from.host() + " failed: " + m.path("error").asText("?"));
            return;
        }
        Barrier barrier;
        try {
            barrier = Barrier.valueOf(m.path("barrier").asText().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            fail("host " + from.host() + " sent an unknown barrier '" + m.path("barrier").asText() + "'");
            return;
        }
        if (barrier == Barrier.WRITTEN) {
            synchronized (this) {
                written.put(name, new PartCheckpoint(m.path("id").asText(), m.path("path").asText(),
                        m.path("processes").asInt()));
            }
        }
        arrived(barrier, name);
    }

    private synchronized void arrived(Barrier barrier, String name) {
        arrived.computeIfAbsent(barrier, b -> new HashSet<>()).add(name);
        notifyAll();
    }

    private void give(String name, Members.Member from, ObjectNode m) {
        String plugin = m.path("plugin").asText();
        String event = m.path("event").asText();
        String topic = m.path("topic").asText();
        byte[] data = Base64.getDecoder().decode(m.path("data").asText());
        gathering.give(name, plugin, event, topic, data).whenComplete((all, e) -> {
            if (all == null) {
                return; // the operation failed: the member hears abort
            }
            ObjectNode take = Link.message("take");
            take.put("op", op);
            take.put("plugin", plugin);
            take.put("event", event);
            take.put("topic", topic);
            ObjectNode given = take.putObject("parts");
            all.forEach((part, bytes) -> given.put(part, Base64.getEncoder().encodeToString(bytes)));
            from.send(take);
        });
    }

    private String nameOf(Members.Member from, String part) {
        for (Target t : targets) {
            if (t.member() == from && t.part().equals(part)) {
                return t.name();
            }
        }
        return null;
    }

    private List<String> memberNames() {
        return targets.stream().map(Target::name).toList();
    }

    private void fail(String why) {
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = why;
            notifyAll();
        }
        gathering.fail(new IOException(why));
    }

    private synchronized void check() throws OperationFailedException {
        if (failure != null) {
            throw new OperationFailedException("checkpoint " + op + " aborted: " + failure, null);
        }
    }
}
