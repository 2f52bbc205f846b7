package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.stasis.api.OpenFd;
import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;

/**
 * The core's steps without processes, for tests of the lifecycle: every step is
 * written into the journal the test reads ({@code core:suspend}, {@code core:write},
 * {@code core:release:ABORTED}, {@code core:published:true}...), and writing yields one small image of pid 2.
 */
class JournalingCore implements CoreSteps {
    private final List<String> journal;

    /** @param journal where each step is noted, in order (thread-safe: plugins note there too) */
    JournalingCore(List<String> journal) {
        this.journal = journal;
    }

    @Override
    public void suspend(String checkpointId) {
        journal.add("core:suspend");
    }

    /** set: the images leave a dangling link behind, so making them durable fails */
    boolean unsyncableImages;

    @Override
    public List<ProcessImage> writeImages(Path directory) throws IOException {
        journal.add("core:write");
        if (unsyncableImages) {
            Files.createSymbolicLink(directory.resolve("2.img"), directory.resolve("gone"));
        }
        return List.of(new ProcessImage(2, "2.img", 4096, 1, List.of()));
    }

    @Override
    public List<OpenFd> openFds(int pid) {
        return List.of();
    }

    @Override
    public Optional<byte[]> terminalSettings(int pid, int fd) {
        return Optional.empty();
    }

    @Override
    public void release(Outcome outcome) {
        journal.add("core:release:" + outcome);
    }

    @Override
    public void releaseBeforePublish() {
        journal.add("core:release:RESUMED:before-publish");
    }

    @Override
    public void published(boolean published) {
        journal.add("core:published:" + published);
    }

    @Override
    public void validate(Manifest manifest, Path directory) {
        journal.add("core:validate");
    }

    @Override
    public void restore(Manifest manifest, Path directory, Plan plan) {
        journal.add("core:restore:" + plan.environment());
    }

    @Override
    public org.stasis.api.ProcessAccess processes() {
        return new RehearsalCore().processes();
    }

    @Override
    public void discard(Plan plan) {
        journal.add("core:discard:" + plan.passedDescriptors());
    }
}
