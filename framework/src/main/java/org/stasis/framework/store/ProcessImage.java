package org.stasis.framework.store;

import java.util.List;

import org.stasis.api.OpenFd;

/**
 * One process's memory image in a checkpoint and the fd table it had.
 *
 * @param pid the process id inside the computation
 * @param image the image file's name inside the checkpoint directory
 * @param bytes the bytes of memory stored
 * @param areas the number of memory areas
 * @param fds the open descriptors when it was suspended
 * @param tree parent, process group and session when it was suspended (null in
 *        checkpoints written before process trees were recorded)
 */
public record ProcessImage(int pid, String image, long bytes, int areas, List<OpenFd> fds, ProcessTree tree) {

    /**
     * An image without its place in the tree.
     *
     * @param pid the process id inside the computation
     * @param image the image file's name inside the checkpoint directory
     * @param bytes the bytes of memory stored
     * @param areas the number of memory areas
     * @param fds the open descriptors when it was suspended
     */
    public ProcessImage(int pid, String image, long bytes, int areas, List<OpenFd> fds) {
        this(pid, image, bytes, areas, fds, null);
    }
}
