package org.stasis.framework.control;

import java.util.function.BooleanSupplier;

import org.apache.felix.service.command.CommandSession;

/**
 * Whether the client of a control request has left. The request's session carries it,
 * so that a command can drop work nobody waits for any more: a checkpoint queued behind
 * another operation is not started, one still suspending is aborted (its processes
 * resumed).
 */
public final class ClientGone {
    private static final String VARIABLE = "stasis.client.gone";

    private ClientGone() {
    }

    /**
     * @param session the session of a control request
     * @param gone true once its client has left
     */
    static void attach(CommandSession session, BooleanSupplier gone) {
        session.put(VARIABLE, gone);
    }

    /**
     * @param session a command's session
     * @return whether its client has left; never, for sessions without a client (the
     *         coordinator's own console)
     */
    public static BooleanSupplier of(CommandSession session) {
        Object gone = session == null ? null : session.get(VARIABLE);
        return gone instanceof BooleanSupplier supplier ? supplier : () -> false;
    }
}
