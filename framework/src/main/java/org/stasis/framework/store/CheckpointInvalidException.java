package org.stasis.framework.store;

/**
 * A checkpoint that cannot be used: missing, incomplete, corrupt or foreign. The
 * message is one line that says which and what to do.
 */
public final class CheckpointInvalidException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean foreign;

    /** @param message one line: what is wrong and what to do */
    public CheckpointInvalidException(String message) {
        super(message);
        this.foreign = false;
    }

    CheckpointInvalidException(String message, Throwable cause) {
        super(message, cause);
        this.foreign = false;
    }

    CheckpointInvalidException(String message, boolean foreign) {
        super(message);
        this.foreign = foreign;
    }

    /** @return whether the checkpoint is refused because someone else could have written it */
    public boolean isForeign() {
        return foreign;
    }
}
