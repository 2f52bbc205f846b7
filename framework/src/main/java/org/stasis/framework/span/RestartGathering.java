package org.stasis.framework.span;

import java.io.IOException;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.stasis.api.LifecycleEvent;
import org.stasis.framework.lifecycle.SpanOperation;

/**
 * The main's side of one restart across hosts ({@code stasis restart --hosts}): every
 * part restarts at the same time, each by its host's coordinator (several parts on one
 * host: each its own restorer), and their plugins' exchanges in {@code restart} and
 * {@code resume} are gathered here. The parts restarted on the main's host (if any)
 * each use one {@link #span(String)} of this object.
 */
final class RestartGathering implements SpanMessages {
    private final Members members;
    private final String op;
    private final Set<String> own;
    private final List<String> parts;
    private final Map<String, Members.Member> hosts;
    private final Gathering gathering;
    private final Set<String> done = new HashSet<>();
    private final Set<String> ownEnded = new HashSet<>();

    /**
     * @param members the registry (to unregister when every part is done)
     * @param op the operation's id
     * @param own the parts restarted on the main's host (may be empty)
     * @param parts every part's name, in order
     * @param hosts each member-restarted part's member
     */
    RestartGathering(Members members, String op, Set<String> own, List<String> parts, Map<String, Members.Member> hosts) {
        this.members = members;
        this.op = op;
        this.own = Set.copyOf(own);
        this.parts = List.copyOf(parts);
        this.hosts = Map.copyOf(hosts);
        this.gathering = new Gathering(parts);
    }

    /**
     * @param part one of the parts restarted on the main's host
     * @return its side of the operation, for its restart's lifecycle
     */
    SpanOperation span(String part) {
        return new OwnPart(part);
    }

    // One part restarted on the main's host.
    private final class OwnPart implements SpanOperation {
        private final String name;

        OwnPart(String name) {
            this.name = name;
        }

        @Override
        public boolean spans() {
            return true;
        }

        @Override
        public String group() {
            return op;
        }

        @Override
        public String part() {
            return name;
        }

        @Override
        public List<String> parts() {
            return parts;
        }

        @Override
        public Map<String, byte[]> exchange(String plugin, LifecycleEvent event, String topic, byte[] mine)
                throws IOException {
            return gathering.exchange(name, plugin, event.name(), topic, mine,
                    why -> gathering.fail(new IOException(why)));
        }

        @Override
        public void ended(String plugin, LifecycleEvent event) {
            gathering.ended(name, plugin, event.name());
        }

        @Override
        public void abort(String why) {
            fail("part " + name + " failed: " + why);
        }

        @Override
        public void end() {
            synchronized (RestartGathering.this) {
                ownEnded.add(name);
            }
            gathering.ended(name, "*", LifecycleEvent.RESUME.name());
            unregisterWhenDone();
        }
    }

    /** A part failed before it restarted: every exchange still open fails. */
    void fail(String why) {
        gathering.fail(new IOException("restart " + op + " failed: " + why));
        for (Members.Member member : new HashSet<>(hosts.values())) {
            ObjectNode m = Link.message("abort");
            m.put("op", op);
            m.put("why", why);
            member.send(m);
        }
    }

    @Override
    public void message(Members.Member from, ObjectNode m) {
        String name = m.path("part").asText(m.path("name").asText());
        if (hosts.get(name) != from) {
            return;
        }
        switch (m.path("type").asText()) {
            case "give" -> give(name, from, m);
            case "ended" -> gathering.ended(name, m.path("plugin").asText(), m.path("event").asText());
            case "arrive" -> {
                if (!m.path("ok").asBoolean(true)) {
                    fail("part " + name + " on host " + from.host() + " failed: " + m.path("error").asText("?"));
                }
            }
            case "restarted" -> {
                gathering.ended(name, "*", LifecycleEvent.RESTART.name());
                gathering.ended(name, "*", LifecycleEvent.RESUME.name());
                synchronized (this) {
                    done.add(name);
                }
                unregisterWhenDone();
            }
            default -> {
                // not for a restart
            }
        }
    }

    @Override
    public void lost(Members.Member member, String why) {
        if (hosts.containsValue(member)) {
            fail("the link to host " + member.host() + " was lost (" + why + ")");
            hosts.forEach((name, m) -> {
                if (m == member) {
                    gathering.ended(name, "*", LifecycleEvent.RESTART.name());
                    gathering.ended(name, "*", LifecycleEvent.RESUME.name());
                    synchronized (this) {
                        done.add(name);
                    }
                }
            });
            unregisterWhenDone();
        }
    }

    private void give(String name, Members.Member from, ObjectNode m) {
        String plugin = m.path("plugin").asText();
        String event = m.path("event").asText();
        String topic = m.path("topic").asText();
        gathering.give(name, plugin, event, topic, Base64.getDecoder().decode(m.path("data").asText()))
                .whenComplete((all, e) -> {
                    if (all == null) {
                        return;
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

    private void unregisterWhenDone() {
        synchronized (this) {
            if (!ownEnded.containsAll(own) || !done.containsAll(hosts.keySet())) {
                return;
            }
        }
        members.unregister(op, this);
    }
}
