package org.stasis.framework.store;

import java.util.List;
import java.util.Map;

import org.stasis.api.ProcessInfo;

/**
 * The table of contents of a checkpoint, stored as {@code manifest.json}. Written
 * last, so a directory without a valid manifest is never a checkpoint.
 *
 * @param formatVersion the manifest format; a restart refuses versions it does not know
 * @param id the checkpoint id, {@code <computation>-<generation>}
 * @param computation the checkpoints' name ({@code <coordinator>-<computation id>})
 * @param generation the generation, counting from 1
 * @param created when the checkpoint was published (ISO-8601, UTC)
 * @param arch the machine architecture ({@code os.arch})
 * @param kernel the kernel release it was taken on
 * @param processes the processes of the computation
 * @param images each process's memory image, in the order of {@code processes}
 * @param plugins each plugin's records, by plugin id
 * @param lineage the computation's identity across restarts: made when it was launched,
 *        carried over by every restart (null in checkpoints written before lineages)
 * @param parent the checkpoint this computation last took or was restarted from before
 *        this one, null for the first checkpoint of a launch
 * @param options the computation's checkpoint options when it was taken (e.g.
 *        {@code save-files}); empty in manifests written before options existed
 * @param computationId the computation's id within its coordinator ({@code c1}); null in older checkpoints
 * @param command the command line the computation was launched with; null in older checkpoints
 * @param base the checkpoint (a sibling directory) whose memory images this one's images
 *        refer to for the pages that did not change (incremental checkpoint), null when
 *        every image is self-contained (doc/image-format.md)
 * @param parts the other parts of a computation that spans hosts, in the main's checkpoint
 *        (doc/several-hosts.md); empty for a computation on one host
 * @param span in a member's part, the id of the main's checkpoint it belongs to; else null
 * @param part this checkpoint's own part name in a computation that spans hosts; else null
 */
public record Manifest(int formatVersion, String id, String computation, long generation, String created,
        String arch, String kernel, List<ProcessInfo> processes, List<ProcessImage> images,
        Map<String, Map<String, String>> plugins, String lineage, String parent, Map<String, String> options,
        String computationId, String command, String base, List<Part> parts, String span, String part) {

    /** A manifest's options and parts are never null. */
    public Manifest {
        options = options == null ? Map.of() : Map.copyOf(options);
        parts = parts == null ? List.of() : List.copyOf(parts);
    }

    /**
     * A manifest of a computation on one host.
     */
    public Manifest(int formatVersion, String id, String computation, long generation, String created,
            String arch, String kernel, List<ProcessInfo> processes, List<ProcessImage> images,
            Map<String, Map<String, String>> plugins, String lineage, String parent, Map<String, String> options,
            String computationId, String command, String base) {
        this(formatVersion, id, computation, generation, created, arch, kernel, processes, images, plugins, lineage,
                parent, options, computationId, command, base, List.of(), null, null);
    }

    /**
     * Another host's part of the checkpoint, as the main's manifest lists it.
     *
     * @param name the part's name (its host's, unique in the computation)
     * @param host the host that wrote it
     * @param id the part's checkpoint id on that host
     * @param path the part's checkpoint directory on that host (absolute)
     * @param processes how many processes it holds
     */
    public record Part(String name, String host, String id, String path, int processes) {
    }

    /** A manifest without checkpoint options nor computation id. */
    public Manifest(int formatVersion, String id, String computation, long generation, String created,
            String arch, String kernel, List<ProcessInfo> processes, List<ProcessImage> images,
            Map<String, Map<String, String>> plugins, String lineage, String parent) {
        this(formatVersion, id, computation, generation, created, arch, kernel, processes, images, plugins, lineage,
                parent, Map.of(), null, null, null);
    }

    /** The manifest format this build writes and reads. */
    public static final int FORMAT_VERSION = 1;
}
