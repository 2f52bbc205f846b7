package org.stasis.framework.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.stasis.api.FdSource;
import org.stasis.api.ProcessInfo;

class PlanTest {
    @Test
    void aDescriptorPassedToSeveralProcessesIsFreedOnce() {
        Plan plan = new Plan(List.of(new ProcessInfo(2, 100, 0, "server"), new ProcessInfo(3, 101, 2, "worker")));
        plan.process(2).installFd(4, new FdSource.Passed(41, 0));
        plan.process(3).installFd(4, new FdSource.Passed(41, 0));
        plan.process(3).installFd(5, new FdSource.Passed(42, 04000));
        plan.process(3).installFd(1, new FdSource.OpenFile(Path.of("/tmp/out"), 1, 0));

        assertEquals(Set.of(41, 42), plan.passedDescriptors());
    }

    @Test
    void aReplacedPassedDescriptorIsStillFreed() {
        Plan plan = new Plan(List.of(new ProcessInfo(2, 100, 0, "server")));
        plan.process(2).installFd(4, new FdSource.Passed(41, 0));
        plan.process(2).installFd(4, new FdSource.Inherited(1));

        assertEquals(Set.of(41), plan.passedDescriptors());
    }
}
