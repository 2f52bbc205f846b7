package org.stasis.framework.lifecycle;

/**
 * A checkpoint or restart that did not happen. The message is one line for the user;
 * nothing was published and the computation carries on as before.
 */
public final class OperationFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    /**
     * @param message one line for the user
     * @param cause what failed, if anything
     */
    public OperationFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
