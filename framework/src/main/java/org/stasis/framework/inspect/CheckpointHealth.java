package org.stasis.framework.inspect;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.stasis.api.ProcessInfo;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointNote;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.ImageFile;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;

/** One line of {@code stasis:list}: a checkpoint and whether it can be restarted. */
public final class CheckpointHealth {
    private CheckpointHealth() {
    }

    // The quick check (manifest, image headers and tables); `verify` reads every page.
    public static Map<String, Object> describe(CheckpointStore store, Path checkpoint) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", checkpoint.getFileName().toString());
        row.put("directory", checkpoint.toString());
        row.put("bytes", size(checkpoint));
        try {
            Manifest manifest = store.read(checkpoint);
            row.put("computation", manifest.computationId() == null ? "-" : manifest.computationId());
            row.put("generation", manifest.generation());
            row.put("created", manifest.created());
            row.put("processes", manifest.processes().size());
            // the launch's command line when the manifest has it, else the main process's
            row.put("command", manifest.command() != null ? manifest.command() : command(manifest));
            row.put("lineage", manifest.lineage());
            row.put("parent", manifest.parent());
            row.put("note", CheckpointNote.read(checkpoint));
            for (ProcessImage image : manifest.images()) {
                ImageFile.check(checkpoint.resolve(image.image()), false);
            }
            row.put("state", "ok");
            spans(row, manifest);
        } catch (CheckpointInvalidException e) {
            markUnusable(row, e.isForeign() ? e.getMessage() : "damaged: " + e.getMessage());
        } catch (RuntimeException e) {
            // one bad entry never breaks the listing of the others
            markUnusable(row, "damaged: " + e.getMessage());
        }
        return row;
    }

    // A computation that spans hosts: the main's checkpoint lists its parts (and says which it cannot read here);
    // a member's part names the main's checkpoint.
    private static void spans(Map<String, Object> row, Manifest manifest) {
        if (manifest.span() != null) {
            row.put("span", manifest.span());
        }
        if (manifest.parts().isEmpty()) {
            return;
        }
        List<Map<String, Object>> parts = new java.util.ArrayList<>();
        List<String> unreadable = new java.util.ArrayList<>();
        for (Manifest.Part part : manifest.parts()) {
            boolean readable = Files.isRegularFile(Path.of(part.path()).resolve(CheckpointStore.MANIFEST));
            parts.add(Map.of("name", part.name(), "host", part.host(), "id", part.id(), "path", part.path(),
                    "processes", part.processes(), "readable", readable));
            if (!readable) {
                unreadable.add(part.name());
            }
        }
        row.put("parts", parts);
        if (!unreadable.isEmpty()) {
            row.put("state", "ok; part " + String.join(", ", unreadable) + " not readable on this host");
        }
    }

    // The computation's main process: the one whose parent is outside the computation.
    public static String command(Manifest manifest) {
        List<ProcessInfo> processes = manifest.processes();
        Set<Integer> pids = processes.stream().map(ProcessInfo::pid).collect(Collectors.toSet());
        return processes.stream().filter(p -> !pids.contains(p.parentPid())).findFirst()
                .or(() -> processes.stream().findFirst()).map(ProcessInfo::command).orElse("");
    }

    private static void markUnusable(Map<String, Object> row, String state) {
        row.putIfAbsent("computation", "?");
        row.putIfAbsent("generation", "?");
        row.putIfAbsent("created", "?");
        row.putIfAbsent("processes", "?");
        row.putIfAbsent("command", "?");
        row.put("state", state);
    }

    private static long size(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;       // a file or the checkpoint went away while it was walked (pruned meanwhile)
        }
    }
}
