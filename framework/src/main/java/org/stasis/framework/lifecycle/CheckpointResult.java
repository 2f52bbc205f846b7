package org.stasis.framework.lifecycle;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.stasis.framework.store.ProcessImage;

/**
 * A published checkpoint.
 *
 * @param id its id
 * @param generation its generation
 * @param directory where it was published
 * @param duration how long it took from the first event to publication
 * @param images what was written for each process
 */
public record CheckpointResult(String id, long generation, Path directory, Duration duration,
        List<ProcessImage> images) {
}
