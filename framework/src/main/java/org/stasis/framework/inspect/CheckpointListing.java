package org.stasis.framework.inspect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.ComputationIds;
import org.stasis.framework.util.Json;
import org.stasis.framework.util.Table;

/**
 * {@code stasis list}: the checkpoints in a checkpoint directory (its own, from older
 * versions, and each computation's subdirectory), each with whether it can be restarted.
 * Reads only the disk: the coordinator's command and the standalone tool print the same.
 */
public final class CheckpointListing {
    private CheckpointListing() {
    }

    /**
     * @param root the checkpoint directory
     * @param computation only this computation's checkpoints (empty: all)
     * @param lineageOf only the checkpoints of the lineage of this checkpoint id (empty: all)
     * @param knownLineage lineages known beyond the manifests (a coordinator's memory), by checkpoint id
     * @param asJson JSON instead of a table
     * @return the listing
     * @throws InspectionFailedException if the directory cannot be listed or the lineage is unknown
     */
    public static String list(Path root, String computation, String lineageOf,
            Function<String, Optional<String>> knownLineage, boolean asJson) {
        List<Map<String, Object>> rows = new ArrayList<>();
        try {
            for (CheckpointStore store : stores(root)) {
                for (Path checkpoint : store.list()) {
                    Map<String, Object> row = CheckpointHealth.describe(store, checkpoint);
                    if (!Files.exists(checkpoint)) {
                        continue;   // pruned while it was listed (keep): it is no checkpoint any more
                    }
                    if (computation.isEmpty() || computation.equals(row.get("computation"))) {
                        rows.add(row);
                    }
                }
            }
        } catch (IOException e) {
            throw new InspectionFailedException("cannot list " + root + ": " + e.getMessage(), e, null);
        }
        if (!lineageOf.isEmpty()) {
            String lineage = lineage(lineageOf, rows, knownLineage);
            rows.removeIf(row -> !lineage.equals(row.get("lineage")));
        }
        if (asJson) {
            return new Json().write(rows);
        }
        return rows.isEmpty() ? "no checkpoints in " + root : table(rows) + "\n(" + root + ")";
    }

    private static String table(List<Map<String, Object>> rows) {
        boolean notes = rows.stream().anyMatch(r -> r.get("note") != null && !r.get("note").toString().isEmpty());
        Table table = notes ? new Table("ID", "COMPUTATION", "GEN", "CREATED", "PROCESSES", "SIZE", "COMMAND", "NOTE", "STATE")
                : new Table("ID", "COMPUTATION", "GEN", "CREATED", "PROCESSES", "SIZE", "COMMAND", "STATE");
        for (Map<String, Object> row : rows) {
            List<Object> cells = new ArrayList<>(Arrays.asList(row.get("id"), row.get("computation"),
                    row.get("generation"), row.get("created"), processes(row),
                    String.format("%.1f MiB", ((Number) row.get("bytes")).longValue() / 1048576.0),
                    String.valueOf(row.get("command"))));   // whole: the arguments tell checkpoints apart
            if (notes) {
                cells.add(row.getOrDefault("note", ""));
            }
            cells.add(row.get("state"));
            table.row(cells.toArray());
        }
        return table.toString();
    }

    // The main's own processes, plus each other host's part's: "1 + 1 on h2".
    private static Object processes(Map<String, Object> row) {
        if (!(row.get("parts") instanceof List<?> parts)) {
            return row.get("processes");
        }
        StringBuilder cell = new StringBuilder(String.valueOf(row.get("processes")));
        for (Object o : parts) {
            Map<?, ?> part = (Map<?, ?>) o;
            cell.append(" + ").append(part.get("processes")).append(" on ").append(part.get("name"));
        }
        return cell.toString();
    }

    // The directory itself (checkpoints of older versions) and each computation's subdirectory.
    private static List<CheckpointStore> stores(Path root) throws IOException {
        List<CheckpointStore> stores = new ArrayList<>(List.of(new CheckpointStore(root)));
        if (Files.isDirectory(root)) {
            try (var entries = Files.list(root)) {
                entries.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        && ComputationIds.ID.matcher(p.getFileName().toString()).matches()
                        && !p.getFileName().toString().startsWith(".")
                        && !Files.exists(p.resolve(CheckpointStore.MANIFEST)))
                        .sorted(Comparator.comparing(p -> p.getFileName().toString(), ComputationIds.ORDER))
                        .forEach(p -> stores.add(new CheckpointStore(p)));
            }
        }
        return stores;
    }

    // A checkpoint's lineage: from what the caller knows, else from its manifest.
    private static String lineage(String checkpointId, List<Map<String, Object>> rows,
            Function<String, Optional<String>> knownLineage) {
        return knownLineage.apply(checkpointId)
                .or(() -> rows.stream().filter(r -> checkpointId.equals(r.get("id")) && r.get("lineage") != null)
                        .map(r -> r.get("lineage").toString()).findFirst())
                .orElseThrow(() -> new InspectionFailedException("unknown checkpoint " + checkpointId
                        + ": its lineage is not known here; see: stasis list", null, null));
    }
}
