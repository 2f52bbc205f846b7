package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import org.stasis.api.ProcessInfo;

/**
 * Which lineage each running computation belongs to: a computation keeps one identity
 * across restarts. A launched computation gets a new lineage at its first checkpoint; a
 * restarted one continues the lineage of its checkpoint. A computation is recognised by
 * its processes (host pid and start time), so a later launch under the same coordinator
 * name starts a lineage of its own instead of inheriting the previous program's.
 */
public final class Lineages {
    private static final int REMEMBERED = 64;

    /**
     * One computation's place in its lineage.
     *
     * @param lineage the lineage id
     * @param parent the checkpoint it last took or was restarted from, null if none
     * @param members its processes as {@code hostPid:startTime}
     */
    public record Entry(String lineage, String parent, Set<String> members) {
    }

    private final Deque<Entry> entries = new ArrayDeque<>();
    private final Bases bases = new Bases();
    private final Map<String, String> lineageOfCheckpoint = new LinkedHashMap<>();

    /**
     * @param processes the computation's processes now
     * @return the entry of the computation they form, or a new lineage without parent
     */
    public synchronized Entry of(Collection<ProcessInfo> processes) {
        Set<String> now = identities(processes);
        for (Entry entry : entries) {
            if (entry.members().stream().anyMatch(now::contains)) {
                return entry;
            }
        }
        return new Entry(UUID.randomUUID().toString(), null, now);
    }

    /**
     * The computation published checkpoint {@code id}: it is the parent of its next one.
     *
     * @param entry what {@link #of} said before the checkpoint
     * @param id the published checkpoint
     * @param processes its processes
     */
    public synchronized void checkpointed(Entry entry, String id, Collection<ProcessInfo> processes) {
        replace(entry, new Entry(entry.lineage(), id, identities(processes)));
        remember(id, entry.lineage());
    }

    /** @return the bases of the checkpoints behind the lineages, as last read */
    Bases bases() {
        return bases;
    }

    /**
     * A computation was restarted from {@code id} and continues its lineage.
     *
     * @param lineage the checkpoint's lineage; null (an old checkpoint) starts a new one
     * @param id the checkpoint it came from
     * @param processes the restored processes
     */
    public synchronized void restarted(String lineage, String id, Collection<ProcessInfo> processes) {
        String kept = lineage == null || lineage.isBlank() ? UUID.randomUUID().toString() : lineage;
        Set<String> now = identities(processes);
        entries.removeIf(e -> e.members().stream().anyMatch(now::contains));
        replace(null, new Entry(kept, id, now));
        remember(id, kept);
    }

    /**
     * @param checkpointId a checkpoint this coordinator published or restarted
     * @return its lineage, if known here
     */
    public synchronized Optional<String> lineageOf(String checkpointId) {
        return Optional.ofNullable(lineageOfCheckpoint.get(checkpointId));
    }

    private void replace(Entry old, Entry now) {
        if (old != null) {
            entries.remove(old);
        }
        entries.addFirst(now);
        while (entries.size() > REMEMBERED) {
            entries.removeLast();
        }
    }

    private void remember(String id, String lineage) {
        lineageOfCheckpoint.put(id, lineage);
        if (lineageOfCheckpoint.size() > 16 * REMEMBERED) {
            lineageOfCheckpoint.remove(lineageOfCheckpoint.keySet().iterator().next());
        }
    }

    private static Set<String> identities(Collection<ProcessInfo> processes) {
        return processes.stream().map(p -> p.hostPid() + ":" + startTime(p.hostPid())).collect(Collectors.toSet());
    }

    // Field 22 of /proc/PID/stat: a pid reused by another program has another start time.
    private static String startTime(int hostPid) {
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(hostPid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return fields.length > 19 ? fields[19] : "?";
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }
}
