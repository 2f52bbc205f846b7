package org.stasis.framework.inspect;

/**
 * An inspection that ran but found the checkpoint unusable, or could not read it: one
 * line saying what is wrong and what to do (exit status 1).
 */
public final class InspectionFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String output;

    /**
     * @param message what went wrong and what to do
     * @param cause the underlying failure, or null
     * @param output what is printed on standard output all the same (a JSON verdict), or null
     */
    public InspectionFailedException(String message, Throwable cause, String output) {
        super(message, cause);
        this.output = output;
    }

    /** @return what is printed on standard output before the error line, or null */
    public String output() {
        return output;
    }
}
