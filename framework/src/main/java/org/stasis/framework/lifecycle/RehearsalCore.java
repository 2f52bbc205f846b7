package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ResumeContext.Outcome;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;

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
    public List<ProcessImage> writeImages(Path directory) {
        return List.of();
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
    public ProcessAccess processes() {
        return new ProcessAccess() {
            @Override
            public int duplicate(int pid, int fd) throws IOException {
                throw new IOException("a rehearsal has no processes");
            }

            @Override
            public List<String> fdInfo(int pid, int fd) throws IOException {
                throw new IOException("a rehearsal has no processes");
            }

            @Override
            public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
                throw new IOException("a rehearsal has no processes");
            }

            @Override
            public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
                throw new IOException("a rehearsal has no processes");
            }
        };
    }

    @Override
    public void release(Outcome outcome) {
        // Nothing was stopped.
    }

    @Override
    public void validate(Manifest manifest, Path directory) {
        // A rehearsal has no images.
    }

    @Override
    public void restore(Manifest manifest, Path directory, Plan plan) {
        // The plan is built by the plugins and then dropped: no process is created.
    }
}
