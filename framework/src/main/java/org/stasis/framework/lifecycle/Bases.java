package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;

/**
 * The base of each published checkpoint as this coordinator last read or wrote it, so
 * that an incremental checkpoint measures its parent's chain with one {@code stat} per
 * link instead of reading and checking every manifest of the chain again (which cost
 * more than writing a small process's image). A manifest that is not the file that was
 * read, as it was (another inode, size, modification or change time, owner or mode:
 * replaced by {@code compact}, deleted, rewritten, given to someone else), is read and
 * checked again.
 */
final class Bases {
    private static final int REMEMBERED = 1024;
    // what tells the manifest that was read from any other (ctime: chmod and chown too)
    private static final String IDENTITY = "unix:dev,ino,size,lastModifiedTime,ctime,uid,mode";

    private record Known(Map<String, Object> identity, String base) {
    }

    private final Map<Path, Known> known = new LinkedHashMap<>();

    /**
     * @param store where the checkpoint is
     * @param directory a published checkpoint's directory
     * @return the id of its base, null for a full checkpoint
     * @throws CheckpointInvalidException if its manifest cannot be read or is not valid
     */
    String baseOf(CheckpointStore store, Path directory) throws CheckpointInvalidException {
        Map<String, Object> before = identity(directory);
        synchronized (this) {
            Known remembered = known.get(directory);
            if (before != null && remembered != null && remembered.identity().equals(before)) {
                return remembered.base();
            }
        }
        Manifest manifest = store.read(directory);
        // The identity from before the read: a manifest replaced meanwhile is read again next time.
        remember(directory, before, manifest.base());
        return manifest.base();
    }

    /**
     * @param directory a checkpoint this coordinator just published
     * @param base its base, null if it is full
     */
    void published(Path directory, String base) {
        remember(directory, identity(directory), base);
    }

    private synchronized void remember(Path directory, Map<String, Object> identity, String base) {
        if (identity == null) {
            return;
        }
        known.remove(directory);
        known.put(directory, new Known(identity, base));
        if (known.size() > REMEMBERED) {
            known.remove(known.keySet().iterator().next());
        }
    }

    private static Map<String, Object> identity(Path directory) {
        try {
            return Files.readAttributes(directory.resolve(CheckpointStore.MANIFEST), IDENTITY, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException e) {
            return null;        // read every time
        }
    }
}
