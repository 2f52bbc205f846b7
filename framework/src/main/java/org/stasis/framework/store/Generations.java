package org.stasis.framework.store;

import java.util.HashMap;
import java.util.Map;

/**
 * The highest generation a coordinator has given each computation, whatever checkpoint
 * directory it was written to: checkpoint ids never repeat within a coordinator, even
 * after {@code ckptdir} points at an empty directory.
 */
public final class Generations {
    private final Map<String, Long> issued = new HashMap<>();

    /**
     * @param computation the computation's name in the store
     * @param onDisk the next generation by what the directory holds
     * @return the generation to use: onDisk, or one past the last one given, whichever is higher
     */
    public synchronized long next(String computation, long onDisk) {
        long next = Math.max(onDisk, issued.getOrDefault(computation, 0L) + 1);
        issued.put(computation, next);
        return next;
    }
}
