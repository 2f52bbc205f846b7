package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.stasis.api.FdSource;
import org.stasis.api.RestartContext;

/**
 * Reopens the files a program had open by path, deciding for each what the program
 * finds after the checkpoint: a saved file was put back ({@link SavedFiles}); a file
 * open for writing that changed is a warning on the restart terminal; a write-only
 * stream ({@code >}) that grew past where the program was continues at its end, so
 * that nothing written since the checkpoint is overwritten; a scratch companion that
 * is gone (sqlite's {@code -wal}) is recreated empty.
 */
final class Reopener {
    private final RestartContext context;
    private final Map<String, OpenRecord> open;
    private final Set<String> restored;
    private final Set<String> unsaved;
    private final Set<String> warned = new HashSet<>();
    private final Map<String, Long> offsets = new HashMap<>();

    /**
     * @param open every reopened descriptor's record, by {@code pid.fd}
     * @param restored the paths {@link SavedFiles} put back
     * @param unsaved the paths the size limit left out
     */
    Reopener(RestartContext context, Map<String, OpenRecord> open, Set<String> restored, Set<String> unsaved) {
        this.context = context;
        this.open = open;
        this.restored = restored;
        this.unsaved = unsaved;
    }

    /** @return the offset a descriptor gets, once {@link #reopen} decided it */
    long offset(String key, OpenRecord saved) {
        return offsets.getOrDefault(key, saved.offset());
    }

    void reopen(String key, OpenRecord saved) throws IOException {
        int pid = FilePlugin.pidOf(key);
        int fd = FilePlugin.fdOf(key);
        String where = " (fd " + fd + " of process " + pid + ")";
        // Checked where the file is now; installed by its recorded path, which the core rewrites.
        Path path = Path.of(context.plan().rewrite(saved.path()));
        BasicFileAttributes now = attributes(path, key, saved, where);
        long offset = saved.offset();
        String change = restored.contains(saved.path()) ? "" : saved.describeChange(now);
        if (!change.isEmpty()) {
            if (!SavePolicy.writing(saved.flags()) || SavePolicy.appendedTo(saved.flags(), saved.size(), now.size())) {
                // Read-only, or an appended log that grew: the program's writes still go after what is there.
                context.log("file " + path + where + " changed since the checkpoint: " + change);
            } else if (SavePolicy.writeOnlyStream(saved.flags()) && saved.offset() == saved.size()
                    && now.size() > saved.offset()) {
                offset = now.size();
                warnOnce(path, "file " + path + where + " grew since the checkpoint (" + change + "): the program "
                        + "continues writing at its end, after what was written since the checkpoint, not over it; "
                        + "use --save-files auto to restart with the file as it was");
            } else {
                warnOnce(path, "file " + path + where + " was open for writing and changed since the checkpoint ("
                        + change + "); the program continues with it as it is now"
                        + (unsaved.contains(saved.path()) ? "; it was over the --save-files size limit, raise it with "
                                + "--save-files auto:SIZE" : "; use --save-files auto to have it put back at restart"));
            }
        }
        offsets.put(key, offset);
        context.plan().process(pid).installFd(fd, new FdSource.OpenFile(Path.of(saved.path()), saved.flags(), offset));
    }

    private void warnOnce(Path path, String message) {
        if (warned.add(path.toString())) {
            context.warn(message);
        }
    }

    private BasicFileAttributes attributes(Path path, String key, OpenRecord saved, String where) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            Optional<Path> primary = primaryOf(key, saved);
            if (primary.isEmpty()) {
                throw new IOException("file " + path + where + " no longer exists; put it back, or if it moved, "
                        + "restart with --redirect " + moved(path) + "=WHERE_IT_IS_NOW" + (SavePolicy.writing(saved.flags())
                                ? " (a checkpoint taken with --save-files auto would have put it back)" : ""));
            }
            recreateEmpty(path, primary.get());
            warnOnce(path, "file " + path + where + " was gone: recreated it empty, as the scratch companion of "
                    + primary.get() + " that the program writes; its contents since the checkpoint are lost; use "
                    + "--save-files auto to have it put back at restart");
            return Files.readAttributes(path, BasicFileAttributes.class);
        }
    }

    // What moved: the topmost directory above the file that is gone, else the file itself.
    static Path moved(Path path) {
        Path gone = path;
        for (Path up = path.getParent(); up != null && up.getParent() != null && !Files.exists(up); up = up.getParent()) {
            gone = up;
        }
        return gone;
    }

    // A companion is a file open for writing whose name extends the name of another
    // file the same process has open in the same directory (db -> db-wal, db-journal).
    private Optional<Path> primaryOf(String key, OpenRecord saved) {
        if (!SavePolicy.writing(saved.flags())) {
            return Optional.empty();
        }
        Path self = Path.of(saved.path());
        String pid = key.substring(0, key.indexOf('.') + 1);
        return open.entrySet().stream()
                .filter(e -> e.getKey().startsWith(pid))
                .map(e -> Path.of(e.getValue().path()))
                .filter(p -> !p.equals(self) && p.getParent() != null && p.getParent().equals(self.getParent())
                        && self.getFileName().toString().startsWith(p.getFileName().toString()))
                .findFirst()
                .map(p -> Path.of(context.plan().rewrite(p.toString())));
    }

    private static void recreateEmpty(Path path, Path primary) throws IOException {
        Files.createFile(path);
        try {
            Files.setPosixFilePermissions(path, Files.getPosixFilePermissions(primary));
        } catch (IOException e) {
            // the primary is gone too: the new file keeps the default permissions
        }
    }
}
