package org.stasis.framework.agent;

import java.io.IOException;

/**
 * An agent answered a request with {@code ERROR}: its process is there and talking,
 * but could not do what was asked (unlike a lost connection).
 */
public final class AgentRefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message what the agent said, with the process and the request */
    public AgentRefusedException(String message) {
        super(message);
    }
}
