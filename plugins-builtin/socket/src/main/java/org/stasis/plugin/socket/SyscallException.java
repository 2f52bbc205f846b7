package org.stasis.plugin.socket;

import java.io.IOException;

/**
 * A failed system call, with its errno so that callers can tell "address in use"
 * from other failures.
 */
final class SyscallException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    SyscallException(String message, int errno, Throwable cause) {
        super(message, cause);
        this.errno = errno;
    }

    /** @return the errno value */
    int errno() {
        return errno;
    }
}
