package org.stasis.framework.commands;

/**
 * A command that ran but could not do what was asked; the client exits 1 and shows
 * the message, which is one line that says what went wrong and what to do.
 */
public final class CommandFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do
     * @param cause the underlying failure
     */
    public CommandFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
