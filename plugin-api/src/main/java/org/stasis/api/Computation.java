package org.stasis.api;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The set of processes a coordinator checkpoints and restarts as one unit.
 */
@ProviderType
public interface Computation {
    /** @return the coordinator's name ({@code --name}, default {@code default}) */
    String name();

    /** @return the processes of the computation, parents before children */
    List<ProcessInfo> processes();
}
