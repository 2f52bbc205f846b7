package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.stasis.api.CheckpointContext;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartContext;

/**
 * The contents of open files saved into a checkpoint ({@code --save-files}) and put
 * back in place at restart, so that a file database or a {@code >} log is exactly as
 * the restored program left it. Each file is saved once, however many descriptors
 * have it open. Records: {@code save.N = MODE SIZE BLOB PATH} for a saved file,
 * {@code unsaved.N = PATH} for one the size limit left out, and the policy itself
 * under {@code save-files}.
 */
final class SavedFiles {
    static final String OPTION = "save-files";
    private static final String SAVE = "save.";
    private static final String UNSAVED = "unsaved.";
    private final SavePolicy policy;
    private final Map<String, Path> chosen = new LinkedHashMap<>();

    SavedFiles(SavePolicy policy) {
        this.policy = policy;
    }

    /** Considers one open descriptor; the file is saved by {@link #save} if the policy wants it. */
    void consider(ProcessInfo process, OpenFd fd) {
        if (policy.none() || fd.kind() != OpenFd.Kind.PATH || chosen.containsKey(fd.path())) {
            return;
        }
        Path link = Path.of("/proc", Integer.toString(process.hostPid()), "fd", Integer.toString(fd.fd()));
        if (Files.isRegularFile(link) && policy.wants(Path.of(fd.path()), fd.flags())) {
            chosen.put(fd.path(), link);
        }
    }

    /** Copies the chosen files into the checkpoint, within the policy's size limit. */
    void save(CheckpointContext context, Opener opener) throws IOException {
        context.records().put(OPTION, policy.mode());
        long total = 0;
        int index = 0;
        for (Map.Entry<String, Path> file : chosen.entrySet()) {
            index++;
            long size = Files.size(file.getValue());
            if (total + size > policy.limit()) {
                context.records().put(UNSAVED + index, file.getKey());
                context.log("not saved: " + file.getKey() + " (" + size + " bytes) would pass the --save-files limit of "
                        + policy.limit() + " bytes; a restart finds it as it is then (use auto:SIZE for a larger limit)");
                continue;
            }
            String blob = "files-" + index + ".data";
            try {
                total += opener.copyContents(file.getValue(), context.pluginDirectory().resolve(blob), 0600);
            } catch (IOException e) {
                throw new IOException("cannot save " + file.getKey() + " for --save-files " + policy.mode() + ": "
                        + e.getMessage() + "; make it readable or leave it out of --save-files", e);
            }
            context.records().put(SAVE + index, mode(file.getValue()) + " " + size + " " + blob + " " + file.getKey());
        }
    }

    private static int mode(Path file) throws IOException {
        int mode = 0;
        for (PosixFilePermission p : Files.getPosixFilePermissions(file)) {
            mode |= 0400 >> p.ordinal();     // OWNER_READ is ordinal 0, OTHERS_EXECUTE ordinal 8
        }
        return mode;
    }

    /**
     * Puts every saved file back where the program had it (through the plan's path
     * rewrites), as it was at the checkpoint.
     *
     * @return the recorded paths of the files put back
     */
    static Set<String> restore(RestartContext context, Opener opener) throws IOException {
        Set<String> restored = new HashSet<>();
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            if (!record.getKey().startsWith(SAVE)) {
                continue;
            }
            String[] parts = record.getValue().split(" ", 4);
            Path blob = context.pluginDirectory().resolve(parts[2]);
            Path target = Path.of(context.plan().rewrite(parts[3]));
            if (!Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("the checkpoint lost the saved copy of " + parts[3] + " (" + blob
                        + "); restart an intact checkpoint");
            }
            if (target.getParent() != null && !Files.isDirectory(target.getParent())) {
                throw new IOException("cannot put back saved file " + target + ": its directory is gone; create "
                        + target.getParent() + " and restart again");
            }
            opener.copyContents(blob, target, Integer.parseInt(parts[0]));
            context.log("put back " + target + " (" + parts[1] + " bytes) as it was at the checkpoint");
            restored.add(parts[3]);
        }
        return restored;
    }

    /** @return the recorded paths the size limit left out */
    static Set<String> unsaved(RestartContext context) {
        Set<String> paths = new HashSet<>();
        context.records().asMap().forEach((key, value) -> {
            if (key.startsWith(UNSAVED)) {
                paths.add(value);
            }
        });
        return paths;
    }
}
