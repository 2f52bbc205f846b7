package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.stasis.api.FdSource;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartPlan;
import org.stasis.framework.store.ProcessTree;

/**
 * Writes a restart plan in the restorer's format (doc/restart-plan.md): the policy was
 * decided by the plugins; the restorer only carries it out.
 */
final class RestartPlanFile {
    private RestartPlanFile() {
    }

    /**
     * One process of a plan.
     *
     * @param process what the plugins decided for it
     * @param image its image file
     * @param tree its parent, process group and session (null: unknown, restored
     *        as a child of the restorer's init)
     * @param pipeFds fd lines of the computation's own pipes (they replace what a plugin
     *        planned for the same fd)
     * @param sharedMemory its areas that share memory with other areas: start address
     *        (hex) to object key ({@code shared} lines)
     */
    record Member(ProcessPlan process, Path image, ProcessTree tree, Map<Integer, String> pipeFds,
            Map<String, String> sharedMemory) {
    }

    /**
     * Writes the plan. One process: as always (namespaces as the pid strategy says).
     * Several, or one with exited children to recreate (with namespaces only): a tree
     * (doc/restart-plan.md, "Process trees"): one section per process, in checkpoint
     * order, each with its {@code tree} and {@code zombie} lines; always with namespaces.
     *
     * @param plan what the plugins decided
     * @param members the processes, in checkpoint order
     * @param pipeData {@code pipe} lines (data in flight to refill)
     * @param agentSocket where the restored agents reconnect
     * @param target where to write the plan (0600)
     * @throws IOException if it cannot be written
     */
    static void write(RestartPlan plan, List<Member> members, List<String> pipeData, Path agentSocket, Path target)
            throws IOException {
        boolean tree = members.size() > 1 || (plan.pidStrategy() == RestartPlan.PidStrategy.KEEP_PIDS
                && members.stream().anyMatch(m -> m.tree() != null && !m.tree().exitedChildren().isEmpty()));
        StringBuilder text = new StringBuilder("version 1\n");
        text.append("namespaces ")
                .append(tree || plan.pidStrategy() == RestartPlan.PidStrategy.KEEP_PIDS ? "on" : "off").append('\n');
        text.append("agent-socket ").append(safe(agentSocket.toString())).append('\n');
        plan.redirects().forEach((from, to) ->
                text.append("redirect ").append(safe(from.toString())).append('\t').append(safe(to.toString()))
                        .append('\n'));
        for (String line : pipeData) {
            text.append(safe(line)).append('\n');
        }
        for (Member member : members) {
            ProcessPlan process = member.process();
            text.append("process ").append(process.pid()).append(' ').append(safe(member.image().toString()))
                    .append('\n');
            if (tree && member.tree() != null) {
                text.append("tree ").append(member.tree().parentPid()).append(' ')
                        .append(member.tree().processGroup()).append(' ').append(member.tree().session()).append('\n');
                member.tree().exitedChildren().forEach(child -> text.append("zombie ").append(child.pid()).append(' ')
                        .append(child.waitStatus()).append('\n'));
            }
            member.sharedMemory().forEach((start, key) ->
                    text.append("shared ").append(start).append(' ').append(key).append('\n'));
            appendFds(text, plan, process, member.pipeFds());
        }
        Files.deleteIfExists(target);
        Files.createFile(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(target, text, StandardCharsets.UTF_8);
    }

    private static void appendFds(StringBuilder text, RestartPlan plan, ProcessPlan process,
            Map<Integer, String> pipeFds) {
        for (Map.Entry<Integer, FdSource> entry : process.fds().entrySet()) {
            // Passed descriptors are not the restorer's: the agent installs them afterwards.
            if (!pipeFds.containsKey(entry.getKey()) && !(entry.getValue() instanceof FdSource.Passed)) {
                text.append(fdLine(entry.getKey(), entry.getValue(), plan)).append('\n');
            }
        }
        pipeFds.values().forEach(line -> text.append(line).append('\n'));
        for (Map.Entry<Integer, byte[]> entry : process.terminalSettings().entrySet()) {
            text.append("termios ").append(entry.getKey()).append(' ')
                    .append(HexFormat.of().formatHex(entry.getValue())).append('\n');
        }
    }

    private static String fdLine(int fd, FdSource source, RestartPlan plan) {
        if (source instanceof FdSource.OpenFile open) {
            return "fd " + fd + " open " + Integer.toOctalString(open.flags()) + " " + open.offset() + " "
                    + safe(plan.rewrite(open.path().toString()));
        }
        if (source instanceof FdSource.UnlinkedCopy copy) {
            return "fd " + fd + " unlinked " + Integer.toOctalString(copy.flags()) + " " + copy.offset() + " "
                    + safe(copy.copy().toString());
        }
        FdSource.Inherited inherited = (FdSource.Inherited) source;
        return "fd " + fd + " inherit " + inherited.callerFd();
    }

    // Paths run to the end of the line in the plan format, so a newline cannot be expressed.
    private static String safe(String path) {
        if (path.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("cannot restart a path that contains a newline: " + path.replace("\n", "\\n"));
        }
        return path;
    }
}
