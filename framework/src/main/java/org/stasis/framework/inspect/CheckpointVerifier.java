package org.stasis.framework.inspect;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.ImageFile;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.NativeImageCheck;
import org.stasis.framework.store.ProcessImage;
import org.stasis.framework.util.Json;

/**
 * {@code stasis verify}: a checkpoint checked completely, its manifest and every page
 * of every memory image, by the rules of a restart (the restorer's own check).
 */
public final class CheckpointVerifier {
    private CheckpointVerifier() {
    }

    /**
     * @param restorer the {@code stasis-restore} binary that applies a restart's rules
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param trusted check it even if it is foreign (not yours, or writable by others)
     * @param asJson a JSON verdict, also when it fails
     * @return what was checked
     * @throws InspectionFailedException with one line if the checkpoint is not intact
     */
    public static String verify(Path restorer, Path checkpoint, boolean trusted, boolean asJson) {
        Verdict main = check(restorer, checkpoint, trusted, asJson);
        if (main.manifest().parts().isEmpty()) {
            return main.said();
        }
        // A checkpoint that spans hosts: each part it can read from here is checked too.
        StringBuilder text = new StringBuilder(main.said());
        List<Map<String, Object>> parts = new ArrayList<>();
        for (Manifest.Part part : main.manifest().parts()) {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", part.name());
            one.put("host", part.host());
            one.put("path", part.path());
            Path path = Path.of(part.path());
            if (!Files.isRegularFile(path.resolve("manifest.json"))) {
                one.put("ok", null);
                one.put("error", "not readable on this host");
                text.append("\npart ").append(part.name()).append(": ").append(path)
                        .append(" cannot be read on this host; check it on host ").append(part.host())
                        .append(" with: stasis verify ").append(path);
            } else {
                try {
                    Verdict verdict = check(restorer, path, trusted, false);
                    one.put("ok", true);
                    text.append("\npart ").append(part.name()).append(": ").append(verdict.said());
                } catch (InspectionFailedException e) {
                    String why = "part " + part.name() + " (" + path + ") on host " + part.host() + ": "
                            + e.getMessage();
                    if (!asJson) {
                        throw new InspectionFailedException(why, e, null);
                    }
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("checkpoint", main.manifest().id());
                    out.put("ok", false);
                    out.put("error", why);
                    throw new InspectionFailedException(why, e, new Json().write(out));
                }
            }
            parts.add(one);
        }
        if (!asJson) {
            return text.toString();
        }
        Map<String, Object> out = main.json();
        out.put("parts", parts);
        return new Json().write(out);
    }

    private record Verdict(Manifest manifest, String said, Map<String, Object> json) {
    }

    private static Verdict check(Path restorer, Path checkpoint, boolean trusted, boolean asJson) {
        try {
            CheckpointStore store = new CheckpointStore(checkpoint.toAbsolutePath().getParent() == null
                    ? Path.of("/") : checkpoint.toAbsolutePath().getParent());
            Path directory = store.resolve(checkpoint);
            Manifest manifest = store.read(directory, trusted);
            List<Map<String, Object>> images = new ArrayList<>();
            long bytes = 0;
            for (ProcessImage image : manifest.images()) {
                Path file = directory.resolve(image.image());
                ImageFile.Summary summary = ImageFile.check(file, false);
                NativeImageCheck.check(restorer, file);      // what a restart checks, every page included
                bytes += summary.dataBytes();
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("pid", summary.pid());
                one.put("areas", summary.areas());
                one.put("threads", summary.threads());
                one.put("bytes", summary.dataBytes());
                one.put("kernel", summary.kernel());
                images.add(one);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("checkpoint", manifest.id());
            out.put("directory", directory.toString());
            out.put("ok", true);
            out.put("images", images);
            return new Verdict(manifest, asJson ? new Json().write(out) : String.format(
                    "checkpoint %s is intact: %d process%s, %.1f MiB of memory checked", manifest.id(),
                    images.size(), images.size() == 1 ? "" : "es", bytes / 1048576.0), out);
        } catch (CheckpointInvalidException e) {
            if (!asJson) {
                throw new InspectionFailedException(e.getMessage(), e, null);
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("checkpoint", checkpoint.toString());
            out.put("ok", false);
            out.put("error", e.getMessage());
            throw new InspectionFailedException(e.getMessage(), e, new Json().write(out));
        }
    }
}
