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

    /**
     * @return true once the client that asked for the checkpoint has left: the checkpoint
     *         is then aborted at the next safe point (before it writes anything), its
     *         processes resumed
     */
    default boolean cancelled() {
        return false;
    }

    /**
     * @param shown where phases go
     * @param gone whether the client has left
     * @return progress that also says whether the client left
     */
    static Progress cancelledWhen(Progress shown, java.util.function.BooleanSupplier gone) {
        return new Progress() {
            @Override
            public void staging(Path directory) {
                shown.staging(directory);
            }

            @Override
            public void phase(String phase) {
                shown.phase(phase);
            }

            @Override
            public boolean cancelled() {
                return gone.getAsBoolean();
            }
        };
    }
}
