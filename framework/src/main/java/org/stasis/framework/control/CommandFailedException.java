package org.stasis.framework.control;

/**
 * A command that ran but could not do what was asked; the client exits 1 and shows
 * the message, which is one line that says what went wrong and what to do.
 */
public final class CommandFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String output;

    /**
     * @param message what went wrong and what to do
     * @param cause the underlying failure
     */
    public CommandFailedException(String message, Throwable cause) {
        this(message, cause, null);
    }

    /**
     * @param message what went wrong and what to do
     * @param cause the underlying failure
     * @param output what the command prints on standard output all the same (e.g. a JSON verdict), or null
     */
    public CommandFailedException(String message, Throwable cause, String output) {
        super(message, cause);
        this.output = output;
    }

    /** @return what the command prints on standard output before its error line, or null */
    public String output() {
        return output;
    }
}
