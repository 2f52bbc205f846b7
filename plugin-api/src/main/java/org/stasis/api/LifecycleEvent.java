package org.stasis.api;

/**
 * The events of a checkpoint and of a restart, in the order the core raises them.
 */
public enum LifecycleEvent {
    /** Before any thread is stopped: plugins prepare (copy configuration, flush). */
    PRE_CHECKPOINT("preCheckpoint", PreCheckpointCallback.class),
    /** Threads are stopped: plugins empty kernel buffers into user space. */
    DRAIN("drain", DrainCallback.class),
    /** Memory is being written: plugins write their records and blobs. */
    WRITE("write", WriteCallback.class),
    /** A checkpoint is being restarted: plugins recreate resources into the plan. */
    RESTART("restart", RestartCallback.class),
    /** Threads are about to run again: plugins refill what they drained. */
    RESUME("resume", ResumeCallback.class);

    private final String displayName;
    private final Class<?> callbackType;

    LifecycleEvent(String displayName, Class<?> callbackType) {
        this.displayName = displayName;
        this.callbackType = callbackType;
    }

    /** @return the name used in logs and in the shell, e.g. {@code preCheckpoint} */
    public String displayName() {
        return displayName;
    }

    /** @return the callback interface a plugin implements to receive this event */
    public Class<?> callbackType() {
        return callbackType;
    }

    /** @return whether plugins receive this event in reverse ranking order */
    public boolean reversed() {
        return this == RESTART;
    }
}
