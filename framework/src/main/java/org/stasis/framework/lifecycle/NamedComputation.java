package org.stasis.framework.lifecycle;

import java.util.List;
import java.util.function.Supplier;

import org.stasis.api.Computation;
import org.stasis.api.ProcessInfo;

/**
 * A computation by name, whose processes are looked up each time they are asked for
 * (they come and go while the coordinator runs).
 *
 * @param name the computation's name
 * @param processSource where its current processes come from
 */
public record NamedComputation(String name, Supplier<List<ProcessInfo>> processSource) implements Computation {
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
