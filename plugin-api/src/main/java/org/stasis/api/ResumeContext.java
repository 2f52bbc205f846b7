package org.stasis.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The context of {@code resume}.
 */
@ProviderType
public interface ResumeContext extends EventContext {
    /** How the computation comes to run again. */
    enum Outcome {
        /** The checkpoint was published; the original processes go on. */
        RESUMED,
        /** The checkpoint failed and was discarded; the original processes go on. */
        ABORTED,
        /** The processes were recreated from a checkpoint. */
        RESTARTED
    }

    /** @return how the computation comes to run again */
    Outcome outcome();

    /** @return whether the processes were recreated from a checkpoint */
    default boolean isRestart() {
        return outcome() == Outcome.RESTARTED;
    }

    /**
     * @return access to the processes, still suspended while {@code resume} runs (after
     *         an aborted checkpoint the processes may be gone: calls may fail)
     * @since 1.1
     */
    ProcessAccess processes();
}
