package org.stasis.framework.lifecycle;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.ImageFile;
import org.stasis.framework.store.ProcessImage;

/**
 * Incremental checkpoints (doc/image-format.md): which published checkpoint a new one
 * may refer to, and whether it did.
 */
final class Incremental {
    /** Chains longer than this get a full checkpoint (the restorer follows at most 32 parents). */
    static final int MAX_CHAIN = 16;

    private Incremental() {
    }

    /**
     * @param store the computation's checkpoint directory
     * @param bases the bases of published checkpoints as last read
     * @param previous the checkpoint the computation last took or was restarted from, or null
     * @param notes hears why there is no parent when there could have been one
     * @return that checkpoint's directory if it is published in this same directory and its
     *         chain is short enough, else null (full images)
     */
    static Path parentOf(CheckpointStore store, Bases bases, String previous, Consumer<String> notes) {
        if (previous == null || previous.contains("/") || previous.startsWith(".")) {
            return null;
        }
        Path parent = store.root().resolve(previous);
        if (!Files.isRegularFile(parent.resolve(CheckpointStore.MANIFEST))) {
            notes.accept("full checkpoint: " + previous + " is not in " + store.root());
            return null;
        }
        int depth = 0;
        String base = previous;
        try {
            while (base != null && depth <= MAX_CHAIN) {
                depth++;
                base = bases.baseOf(store, store.root().resolve(base));
            }
        } catch (CheckpointInvalidException e) {
            notes.accept("full checkpoint: the chain of " + previous + " cannot be read (" + e.getMessage() + ")");
            return null;
        }
        if (depth > MAX_CHAIN - 1) {
            notes.accept("full checkpoint: " + previous + " ends a chain of " + MAX_CHAIN + " incremental checkpoints");
            return null;
        }
        return parent;
    }

    /**
     * @param directory the staged checkpoint
     * @param images its images
     * @param parent the parent that was offered, or null
     * @return parent if any image refers to it, else null
     */
    static String baseOf(Path directory, List<ProcessImage> images, String parent) throws CheckpointInvalidException {
        if (parent == null) {
            return null;
        }
        for (ProcessImage image : images) {
            if (!ImageFile.check(directory.resolve(image.image()), false).parent().isEmpty()) {
                return parent;
            }
        }
        return null;
    }
}
