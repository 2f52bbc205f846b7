package org.stasis.framework.lifecycle;

import java.util.List;
import java.util.function.Supplier;

import org.stasis.api.Computation;
import org.stasis.api.ProcessInfo;

/**
 * A computation by name, whose processes are looked up each time they are asked for
 * (they come and go while the coordinator runs).
 *
 * @param name the computation's name (what its checkpoints are called)
 * @param processSource where its current processes come from
 * @param id the computation's id within its coordinator, null if it has none
 * @param command the command it was launched with, null if unknown
 */
public record NamedComputation(String name, Supplier<List<ProcessInfo>> processSource, String id, String command)
        implements Computation {
    /**
     * @param name the computation's name
     * @param processSource where its current processes come from
     */
    public NamedComputation(String name, Supplier<List<ProcessInfo>> processSource) {
        this(name, processSource, null, null);
    }

    /**
     * @param name the computation's name
     * @return a computation without processes (a rehearsal)
     */
    public static NamedComputation empty(String name) {
        return new NamedComputation(name, List::of);
    }

    @Override
    public List<ProcessInfo> processes() {
        return processSource.get();
    }
}
