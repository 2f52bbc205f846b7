package org.stasis.framework.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.stasis.api.ProcessInfo;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointNote;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.ImageFile;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;
import org.stasis.framework.util.Json;
import org.stasis.framework.util.Table;

/**
 * {@code stasis info}: a checkpoint's manifest for people (or {@code --json}): what it
 * is, its processes with their images, its plugins' records, its parent. Reads the
 * manifest and the image headers, not the pages ({@code stasis verify} does that).
 */
public final class CheckpointInfo {
    private static final double MIB = 1048576.0;

    private CheckpointInfo() {
    }

    /**
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param trusted describe it even if it is foreign (not yours, or writable by others)
     * @param asJson JSON instead of tables
     * @return the description
     * @throws InspectionFailedException with one line if it is no readable checkpoint
     */
    public static String info(Path checkpoint, boolean trusted, boolean asJson) {
        Map<String, Object> about;
        try {
            CheckpointStore store = new CheckpointStore(checkpoint.toAbsolutePath().getParent() == null
                    ? Path.of("/") : checkpoint.toAbsolutePath().getParent());
            Path directory = store.resolve(checkpoint);
            about = describe(directory, store.read(directory, trusted));
        } catch (CheckpointInvalidException e) {
            throw new InspectionFailedException(e.getMessage(), e, null);
        }
        return asJson ? new Json().write(about) : text(about);
    }

    private static Map<String, Object> describe(Path directory, Manifest manifest) {
        Map<String, Object> about = new LinkedHashMap<>();
        about.put("id", manifest.id());
        about.put("directory", directory.toString());
        about.put("computation", manifest.computationId() == null ? manifest.computation()
                : manifest.computationId());
        about.put("generation", manifest.generation());
        about.put("created", manifest.created());
        about.put("command", manifest.command() != null ? manifest.command() : CheckpointHealth.command(manifest));
        about.put("note", CheckpointNote.read(directory));
        about.put("parent", manifest.parent());
        about.put("base", manifest.base());
        about.put("lineage", manifest.lineage());
        about.put("arch", manifest.arch());
        about.put("kernel", manifest.kernel());
        about.put("options", manifest.options());
        about.put("bytes", bytesUnder(directory));
        List<Map<String, Object>> processes = processes(directory, manifest);
        about.put("memoryBytes", processes.stream().mapToLong(p -> ((Number) p.get("memoryBytes")).longValue()).sum());
        about.put("compression", compression(processes));
        about.put("processes", processes);
        about.put("plugins", plugins(directory, manifest));
        if (manifest.span() != null) {
            about.put("span", manifest.span());
        }
        if (!manifest.parts().isEmpty()) {
            about.put("parts", parts(manifest));
        }
        return about;
    }

    // Over the compressed images: page data held, bytes stored for it, their ratio.
    private static Map<String, Object> compression(List<Map<String, Object>> processes) {
        long raw = 0;
        long stored = 0;
        for (Map<String, Object> p : processes) {
            if ("zstd".equals(p.get("compression"))) {
                raw += ((Number) p.get("pageBytes")).longValue();
                stored += ((Number) p.get("storedBytes")).longValue();
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("method", stored == 0 ? "none" : "zstd");
        out.put("pageBytes", raw);
        out.put("storedBytes", stored);
        out.put("ratio", stored == 0 ? 1.0 : Math.round(raw * 100.0 / stored) / 100.0);
        return out;
    }

    // The other hosts' parts (doc/several-hosts.md), each read where it can be read from here.
    private static List<Map<String, Object>> parts(Manifest manifest) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Manifest.Part part : manifest.parts()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", part.name());
            p.put("host", part.host());
            p.put("id", part.id());
            p.put("path", part.path());
            p.put("processes", part.processes());
            p.put("readable", Files.isRegularFile(Path.of(part.path()).resolve("manifest.json")));
            out.add(p);
        }
        return out;
    }

    private static List<Map<String, Object>> processes(Path directory, Manifest manifest) {
        Map<Integer, ProcessInfo> infos = manifest.processes().stream()
                .collect(Collectors.toMap(ProcessInfo::pid, p -> p, (a, b) -> a));
        List<Map<String, Object>> out = new ArrayList<>();
        for (ProcessImage image : manifest.images()) {
            ProcessInfo info = infos.get(image.pid());
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("pid", image.pid());
            p.put("parentPid", info == null ? null : info.parentPid());
            p.put("command", info == null ? "" : info.command());
            p.put("image", image.image());
            p.put("memoryBytes", image.bytes());
            p.put("imageBytes", sizeOf(directory.resolve(image.image())));
            p.put("areas", image.areas());
            p.put("fds", image.fds() == null ? 0 : image.fds().size());
            p.put("stopped", image.stopped());
            try {
                ImageFile.Summary summary = ImageFile.check(directory.resolve(image.image()), false);
                p.put("threads", summary.threads());
                p.put("compression", summary.compression());
                if (!summary.compression().equals("none")) {
                    p.put("memoryBytes", summary.rawBytes()); // what it holds, not what it takes on disk
                }
                p.put("pageBytes", summary.rawBytes());
                p.put("storedBytes", summary.dataBytes());
                p.put("state", "ok");
            } catch (CheckpointInvalidException e) {
                p.put("threads", null);
                p.put("compression", null);
                p.put("state", "damaged: " + e.getMessage());
            }
            out.add(p);
        }
        return out;
    }

    private static Map<String, Object> plugins(Path directory, Manifest manifest) {
        Map<String, Object> out = new LinkedHashMap<>();
        manifest.plugins().forEach((id, records) -> {
            Map<String, String> all = records == null ? Map.of() : records;
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("records", all.size());
            p.put("recordBytes", all.entrySet().stream().mapToLong(e -> utf8(e.getKey()) + utf8(e.getValue())).sum());
            p.put("keys", all.keySet().stream().sorted().toList());
            p.put("blobBytes", bytesUnder(directory.resolve("plugins").resolve(id)));
            out.put(id, p);
        });
        return out;
    }

    private static String text(Map<String, Object> about) {
        Table head = new Table("checkpoint", String.valueOf(about.get("id")));
        for (String key : List.of("directory", "computation", "generation", "created", "command", "note", "parent",
                "base", "lineage", "arch", "kernel")) {
            Object value = about.get(key);
            head.row(key, value == null || value.toString().isEmpty() ? "-" : value);
        }
        Map<?, ?> options = (Map<?, ?>) about.get("options");
        head.row("options", options.isEmpty() ? "-" : options.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).sorted().collect(Collectors.joining(" ")));
        head.row("size", String.format("%.1f MiB on disk, %.1f MiB of memory", num(about, "bytes") / MIB,
                num(about, "memoryBytes") / MIB));
        Map<?, ?> compression = (Map<?, ?>) about.get("compression");
        head.row("compression", "none".equals(compression.get("method")) ? "none"
                : String.format("zstd, %.1f MiB of page data stored in %.1f MiB (ratio %.2f)",
                        num(compression, "pageBytes") / MIB, num(compression, "storedBytes") / MIB,
                        ((Number) compression.get("ratio")).doubleValue()));
        Table processes = new Table("PID", "PARENT", "MEMORY", "IMAGE", "AREAS", "THREADS", "FDS", "STATE", "COMMAND");
        for (Object o : (List<?>) about.get("processes")) {
            Map<?, ?> p = (Map<?, ?>) o;
            processes.row(p.get("pid"), p.get("parentPid") == null ? "-" : p.get("parentPid"),
                    String.format("%.1f MiB", num(p, "memoryBytes") / MIB),
                    "zstd".equals(p.get("compression")) ? p.get("image") + " (zstd)" : p.get("image"), p.get("areas"),
                    p.get("threads") == null ? "?" : p.get("threads"), p.get("fds"),
                    Boolean.TRUE.equals(p.get("stopped")) ? p.get("state") + " (stopped)" : p.get("state"),
                    p.get("command"));
        }
        Map<?, ?> plugins = (Map<?, ?>) about.get("plugins");
        Table records = new Table("PLUGIN", "RECORDS", "BYTES", "FILES", "KEYS");
        plugins.forEach((id, o) -> {
            Map<?, ?> p = (Map<?, ?>) o;
            records.row(id, p.get("records"), p.get("recordBytes"), p.get("blobBytes"),
                    ((List<?>) p.get("keys")).stream().map(String::valueOf).collect(Collectors.joining(",")));
        });
        String text = head + "\n\n" + processes + "\n\n" + (plugins.isEmpty() ? "no plugin records" : records.toString());
        if (about.get("span") != null) {
            text += "\n\npart of the checkpoint " + about.get("span") + " of a computation that spans hosts";
        }
        if (about.get("parts") instanceof List<?> parts) {
            Table table = new Table("PART", "HOST", "CHECKPOINT", "PROCESSES", "PATH");
            for (Object o : parts) {
                Map<?, ?> p = (Map<?, ?>) o;
                table.row(p.get("name"), p.get("host"), p.get("id"), p.get("processes"), p.get("path")
                        + (Boolean.TRUE.equals(p.get("readable")) ? "" : " (not readable on this host)"));
            }
            text += "\n\n" + table;
        }
        return text;
    }

    private static long num(Map<?, ?> map, String key) {
        return ((Number) map.get(key)).longValue();
    }

    private static long utf8(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long bytesUnder(Path directory) {
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).mapToLong(CheckpointInfo::sizeOf)
                    .sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }
}
