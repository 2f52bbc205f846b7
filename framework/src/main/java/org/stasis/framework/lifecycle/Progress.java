package org.stasis.framework.lifecycle;

import java.nio.file.Path;

/** Hears where a checkpoint is, for a progress display. Called from the checkpoint's thread. */
public interface Progress {
    /** Hears nothing. */
    Progress NONE = new Progress() {
    };

    /** @param directory where the checkpoint is being written */
    default void staging(Path directory) {
    }

    /** @param phase the step that starts now, e.g. {@code drain} or {@code core:write} */
    default void phase(String phase) {
    }
}
