package org.stasis.framework.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Where the processes of this coordinator's computations find the main coordinator of
 * their computation: {@code <runtime dir>/<name>.span}. The agent reads it when a process
 * starts {@code ssh HOST COMMAND}, so that COMMAND runs on HOST as a part of the computation
 * (doc/several-hosts.md, "Following ssh"); a file, not the environment, because the
 * program must not see it and the address is known only once the listener is bound.
 * Lines: the main's address ({@code HOST:PORT}, or {@code :PORT} when the main listens
 * on every address: the remote side then takes the address its ssh connection came from),
 * the token file, and {@code member} on a member (its computation ids are not the main's).
 * No file: nothing is followed.
 */
final class SpanAddressFile {
    private final Path file;

    SpanAddressFile(Path runtime, String coordinatorName) {
        this.file = runtime.resolve(coordinatorName + ".span");
    }

    /**
     * @param address the main's {@code HOST:PORT} or {@code :PORT}
     * @param token the file holding the main's token
     * @param member whether this coordinator is a member of that main
     * @throws IOException if it cannot be written
     */
    void main(String address, Path token, boolean member) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, address + "\n" + token.toAbsolutePath() + "\n"
                + (member ? "member\n" : ""), StandardCharsets.UTF_8);
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** No main to follow to: an earlier coordinator's file of this name is stale. */
    void none() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // the runtime directory is ours (0700); nothing else can hold it
        }
    }
}
