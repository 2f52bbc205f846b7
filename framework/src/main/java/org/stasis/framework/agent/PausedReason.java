package org.stasis.framework.agent;

/**
 * Why an agent wrote its image while the program was paused instead of from a
 * copy-on-write snapshot (the reason word of {@code PAUSED}, doc/agent-protocol.md).
 */
final class PausedReason {
    private PausedReason() {
    }

    static String describe(String word) {
        return switch (word) {
            case "madvise", "dontfork" -> "it has memory that a fork does not copy (MADV_DONTFORK or MADV_WIPEONFORK)";
            case "shared" -> "it maps more than 64 MiB of shared memory";
            case "memory" -> "no memory for a copy of its shared memory";
            case "fork-failed" -> "the snapshot process could not be created (memory, process limit or seccomp)";
            default -> word;
        };
    }
}
