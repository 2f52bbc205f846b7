package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Whether a process still runs with the Stasis agent loaded (libstasis-agent.so mapped). */
final class AgentLibrary {
    static final String FILE_NAME = "libstasis-agent.so";

    private AgentLibrary() {
    }

    /**
     * A process whose agent connection broke either exec'd a program without the agent
     * (the library is no longer mapped) or still has it; only the first may be left out
     * of a checkpoint.
     *
     * @param hostPid the process, as the coordinator sees it
     * @return true if its memory maps the agent library; false also when its maps cannot be
     *         read (a setuid program it exec'd is not dumpable: it runs without the agent)
     */
    static boolean mappedIn(long hostPid) {
        try (Stream<String> maps = Files.lines(Path.of("/proc", Long.toString(hostPid), "maps"))) {
            return maps.anyMatch(line -> line.endsWith("/" + FILE_NAME));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }
}
