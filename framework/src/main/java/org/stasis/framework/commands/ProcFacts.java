package org.stasis.framework.commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What /proc says about a running process, for {@code stasis:status}.
 *
 * @param threads its thread count (including the agent's checkpoint thread)
 * @param residentBytes its resident memory
 */
record ProcFacts(int threads, long residentBytes) {
    static ProcFacts of(int hostPid) {
        int threads = 0;
        long resident = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(hostPid), "status"))) {
                if (line.startsWith("Threads:")) {
                    threads = Integer.parseInt(line.substring(8).strip());
                } else if (line.startsWith("VmRSS:")) {
                    resident = Long.parseLong(line.substring(6).replace("kB", "").strip()) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // The process just exited: report what was read.
        }
        return new ProcFacts(threads, resident);
    }
}
