package org.stasis.framework.store;

import java.util.List;
import java.util.Map;

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
 * @param stopped whether it was stopped (SIGSTOP, SIGTSTP) when checkpointed: a restart
 *        brings it back stopped (false in checkpoints written before this was recorded)
 */
public record ProcessImage(int pid, String image, long bytes, int areas, List<OpenFd> fds, ProcessTree tree,
        Map<String, String> sharedMemory, boolean stopped) {

    /**
     * @param pid the process id inside the computation
     * @param image the image file's name inside the checkpoint directory
     * @param bytes the bytes of memory stored
     * @param areas the number of memory areas
     * @param fds the open descriptors when it was suspended
     * @param tree parent, process group and session when it was suspended
     * @param sharedMemory areas that are views of memory shared with other areas
     *        (start address in hex to object key; empty or null: none)
     */
    public ProcessImage {
        sharedMemory = sharedMemory == null ? Map.of() : Map.copyOf(sharedMemory);
    }

    /**
     * A running process's image.
     *
     * @param pid the process id inside the computation
     * @param image the image file's name inside the checkpoint directory
     * @param bytes the bytes of memory stored
     * @param areas the number of memory areas
     * @param fds the open descriptors when it was suspended
     * @param tree parent, process group and session when it was suspended
     * @param sharedMemory areas that are views of memory shared with other areas
     */
    public ProcessImage(int pid, String image, long bytes, int areas, List<OpenFd> fds, ProcessTree tree,
            Map<String, String> sharedMemory) {
        this(pid, image, bytes, areas, fds, tree, sharedMemory, false);
    }

    /**
     * An image without shared memory.
     *
     * @param pid the process id inside the computation
     * @param image the image file's name inside the checkpoint directory
     * @param bytes the bytes of memory stored
     * @param areas the number of memory areas
     * @param fds the open descriptors when it was suspended
     * @param tree parent, process group and session when it was suspended
     */
    public ProcessImage(int pid, String image, long bytes, int areas, List<OpenFd> fds, ProcessTree tree) {
        this(pid, image, bytes, areas, fds, tree, Map.of(), false);
    }

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
        this(pid, image, bytes, areas, fds, null, Map.of(), false);
    }
}
