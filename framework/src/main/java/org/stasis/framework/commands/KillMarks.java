package org.stasis.framework.commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.stasis.framework.agent.Agent;

/**
 * Before {@code stasis kill}, marks each pid namespace of the computation with a file
 * {@code <runtime>/<name>.killed.<inode>}: the launch front (stasis-launch) that waits
 * for the computation finds it, removes it and says "killed by stasis kill".
 */
final class KillMarks {
    private static final Pattern INODE = Pattern.compile("pid:\\[(\\d+)\\]");

    private KillMarks() {
    }

    /**
     * @param runtime the runtime directory
     * @param name the coordinator's name
     * @param agents the computation's processes
     */
    static void mark(Path runtime, String name, List<Agent> agents) {
        String own = namespace("self");
        for (Agent agent : agents) {
            try {
                String ns = namespace(Integer.toString(agent.hostPid()));
                Matcher m = INODE.matcher(ns);
                if (m.matches() && !ns.equals(own)) {   // launched without namespaces: no front waits
                    Path mark = runtime.resolve(name + ".killed." + m.group(1));
                    if (!Files.exists(mark)) {
                        Files.createFile(mark);
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone already, or no namespace to mark: the kill goes on, only the message is missed
            }
        }
    }

    private static String namespace(String pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", pid, "ns/pid")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "";
        }
    }
}
