package org.stasis.framework.control;

/**
 * The bounds of the control connections (doc/control-protocol.md, "Limits").
 *
 * @param workers requests served at once (EXEC, PING, SHELL sessions)
 * @param queue complete requests that may wait for a worker; beyond, the client is told the coordinator is busy
 * @param maxPending connections that may be open before their request is complete
 * @param perSource of those, how many one source may hold (the local user, or one remote address);
 *        beyond, its oldest is dropped
 * @param idleMillis how long a connection may send nothing before its request is complete
 * @param requestMillis how long a connection may take to send its whole request
 * @param shellIdleMillis how long a SHELL session may send nothing
 * @param pendingBytes bytes of incomplete requests held at once
 */
record HubLimits(int workers, int queue, int maxPending, int perSource, long idleMillis, long requestMillis,
        long shellIdleMillis, long pendingBytes) {
    /** The coordinator's limits. */
    static final HubLimits DEFAULT = new HubLimits(64, 16, 4096, 256, 5_000, 60_000, 3_600_000, 64L << 20);
}
