package org.stasis.framework.store;

import java.nio.file.Path;

/**
 * A checkpoint being written: a private directory that becomes the checkpoint only
 * when it is published.
 *
 * @param id the checkpoint id it will have
 * @param generation its generation
 * @param directory where its files are written until publication
 */
public record Staging(String id, long generation, Path directory) {
}
