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
 */
public record ProcessImage(int pid, String image, long bytes, int areas, List<OpenFd> fds) {
}
