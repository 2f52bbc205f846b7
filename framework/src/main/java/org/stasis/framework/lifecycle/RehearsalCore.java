package org.stasis.framework.lifecycle;

import java.nio.file.Path;

import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.store.Manifest;

/**
 * The core's steps for a rehearsal: the full sequence of plugin events with no
 * process touched, so a plugin author can watch a plugin take part in a checkpoint
 * and a restart ({@code stasis:dryrun}).
 */
public final class RehearsalCore implements CoreSteps {
    @Override
    public void suspend(String checkpointId) {
        // A rehearsal stops no thread.
    }

    @Override
    public void writeImages(Path directory) {
        // A rehearsal has no memory to write.
    }

    @Override
    public void release(Outcome outcome) {
        // Nothing was stopped.
    }

    @Override
    public void restore(Manifest manifest, Path directory, Plan plan) {
        // The plan is built by the plugins and then dropped: no process is created.
    }
}
