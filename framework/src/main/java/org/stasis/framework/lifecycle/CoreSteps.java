package org.stasis.framework.lifecycle;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;
import org.stasis.framework.util.Descriptors;
import org.stasis.api.ResumeContext;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.Manifest;
import org.stasis.framework.store.ProcessImage;

/**
 * The parts of a checkpoint and restart the core does itself, between the plugin
 * events: stopping and releasing threads, writing memory, recreating processes.
 */
public interface CoreSteps {
    /**
     * Stops every user thread of the computation; returns when all are stopped.
     *
     * @param checkpointId the checkpoint being taken
     * @throws Exception if a process cannot be stopped; the checkpoint is aborted
     */
    void suspend(String checkpointId) throws Exception;

    /**
     * Writes every process's memory image into the staging directory.
     *
     * @param directory where the images go
     * @return what was written, one entry per process
     * @throws Exception if an image cannot be written; the checkpoint is aborted
     */
    List<ProcessImage> writeImages(Path directory) throws Exception;

    /**
     * Writes every process's memory image, incrementally over its image in
     * {@code parent} where the process can (doc/agent-protocol.md, PARENT).
     *
     * @param directory where the images go
     * @param parent the published checkpoint to refer to for unchanged pages, null for full images
     * @param notes receives one line per process whose image is full although a parent was given
     * @return what was written, one entry per process
     * @throws Exception if an image cannot be written; the checkpoint is aborted
     */
    default List<ProcessImage> writeImages(Path directory, Path parent, java.util.function.Consumer<String> notes)
            throws Exception {
        return writeImages(directory);
    }

    /**
     * Writes every process's memory image as {@link #writeImages(Path, Path, java.util.function.Consumer)},
     * its page data compressed as {@code compress} says.
     *
     * @param directory where the images go
     * @param parent the published checkpoint to refer to for unchanged pages, null for full images
     * @param compress the computation's {@code compress} option: null or "none" (page data as it is),
     *        "zstd" or "zstd:LEVEL"
     * @param notes receives one line per process whose image is full although a parent was given
     * @return what was written, one entry per process
     * @throws Exception if an image cannot be written; the checkpoint is aborted
     */
    default List<ProcessImage> writeImages(Path directory, Path parent, String compress,
            java.util.function.Consumer<String> notes) throws Exception {
        return writeImages(directory, parent, notes);
    }

    /**
     * Waits for the images that copy-on-write snapshots still write after the release
     * (doc/agent-protocol.md, SNAPSHOT and COLLECT).
     *
     * @param images what the last {@code writeImages} returned
     * @return the same images, with the sizes of those written since
     * @throws Exception if an image could not be written; the checkpoint is aborted
     */
    default List<ProcessImage> awaitImages(List<ProcessImage> images) throws Exception {
        return images;
    }

    /**
     * @param pid a process id inside the computation
     * @return its open descriptors as reported at suspend time; empty before
     */
    List<OpenFd> openFds(int pid);

    /**
     * @param pid a process id inside the computation
     * @param fd one of its descriptors
     * @return the terminal's settings, or empty if it is not a terminal
     */
    Optional<byte[]> terminalSettings(int pid, int fd);

    /**
     * @return what plugins may do inside the suspended processes of the current
     *         operation (fails for processes that are not suspended)
     */
    ProcessAccess processes();

    /**
     * Lets the computation's threads run again.
     *
     * @param outcome why they run again
     */
    void release(ResumeContext.Outcome outcome);

    /**
     * Lets the computation's threads run on after a checkpoint whose images are
     * written but not yet durable: the program runs while the checkpoint is synced and
     * published. A thread that asked for the checkpoint from inside the program keeps
     * waiting until {@link #published} says how it ended.
     */
    default void releaseBeforePublish() {
        release(ResumeContext.Outcome.RESUMED);
    }

    /**
     * Ends what {@link #releaseBeforePublish} began.
     *
     * @param published whether the checkpoint was published (false: it is not there,
     *        and a program that asked for it hears that it was aborted)
     */
    default void published(boolean published) {
    }

    /**
     * Checks that the checkpoint's memory images can be restarted here, before any
     * plugin or process is touched.
     *
     * @param manifest the checkpoint's manifest
     * @param directory the checkpoint directory
     * @throws CheckpointInvalidException with one line that says what is wrong
     */
    void validate(Manifest manifest, Path directory) throws CheckpointInvalidException;

    /**
     * Recreates the computation from a checkpoint according to the plan.
     *
     * @param manifest the checkpoint's manifest
     * @param directory the checkpoint directory
     * @param plan what the plugins prepared
     * @throws Exception if the processes cannot be recreated
     */
    void restore(Manifest manifest, Path directory, Plan plan) throws Exception;

    /**
     * Frees what the plan holds in the coordinator (descriptors plugins passed) once a
     * restart is over, whether it succeeded or not.
     *
     * @param plan the restart's plan
     */
    default void discard(Plan plan) {
        Descriptors.closeAll(plan.passedDescriptors());
    }
}
