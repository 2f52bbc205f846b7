package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
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
 * read (another inode, size or time: replaced by {@code compact}, deleted, rewritten)
 * is read and checked again.
 */
final class Bases {
    private static final int REMEMBERED = 1024;

    private record Known(Object fileKey, long size, FileTime modified, String base) {
        boolean same(BasicFileAttributes now) {
            return now.size() == size && now.lastModifiedTime().equals(modified)
                    && java.util.Objects.equals(now.fileKey(), fileKey);
        }
    }

    private final Map<Path, Known> known = new LinkedHashMap<>();

    /**
     * @param store where the checkpoint is
     * @param directory a published checkpoint's directory
     * @return the id of its base, null for a full checkpoint
     * @throws CheckpointInvalidException if its manifest cannot be read or is not valid
     */
    String baseOf(CheckpointStore store, Path directory) throws CheckpointInvalidException {
        BasicFileAttributes before = attributes(directory);
        synchronized (this) {
            Known remembered = known.get(directory);
            if (before != null && remembered != null && remembered.same(before)) {
                return remembered.base();
            }
        }
        Manifest manifest = store.read(directory);
        // Attributes from before the read: a manifest replaced meanwhile is read again next time.
        remember(directory, before, manifest.base());
        return manifest.base();
    }

    /**
     * @param directory a checkpoint this coordinator just published
     * @param base its base, null if it is full
     */
    void published(Path directory, String base) {
        remember(directory, attributes(directory), base);
    }

    private synchronized void remember(Path directory, BasicFileAttributes attributes, String base) {
        if (attributes == null) {
            return;
        }
        known.remove(directory);
        known.put(directory, new Known(attributes.fileKey(), attributes.size(), attributes.lastModifiedTime(), base));
        if (known.size() > REMEMBERED) {
            known.remove(known.keySet().iterator().next());
        }
    }

    private static BasicFileAttributes attributes(Path directory) {
        try {
            return Files.readAttributes(directory.resolve(CheckpointStore.MANIFEST), BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return null;
        }
    }
}
