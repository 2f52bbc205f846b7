package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.Map;

import org.stasis.api.FdSource;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartPlan;
import org.stasis.framework.store.ProcessImage;

/**
 * Writes a restart plan in the restorer's format (doc/restart-plan.md): the policy was
 * decided by the plugins; the restorer only carries it out.
 */
final class RestartPlanFile {
    private RestartPlanFile() {
    }

    /**
     * @param plan what the plugins decided
     * @param process the one process to restore
     * @param image its image file
     * @param agentSocket where the restored agent reconnects
     * @param target where to write the plan (0600)
     * @throws IOException if it cannot be written
     */
    static void write(RestartPlan plan, ProcessPlan process, Path image, Path agentSocket, Path target)
            throws IOException {
        StringBuilder text = new StringBuilder("version 1\n");
        text.append("namespaces ").append(plan.pidStrategy() == RestartPlan.PidStrategy.KEEP_PIDS ? "on" : "off")
                .append('\n');
        text.append("process ").append(process.pid()).append(' ').append(safe(image.toString())).append('\n');
        text.append("agent-socket ").append(safe(agentSocket.toString())).append('\n');
        for (Map.Entry<Integer, FdSource> entry : process.fds().entrySet()) {
            text.append(fdLine(entry.getKey(), entry.getValue(), plan)).append('\n');
        }
        for (Map.Entry<Integer, byte[]> entry : process.terminalSettings().entrySet()) {
            text.append("termios ").append(entry.getKey()).append(' ')
                    .append(HexFormat.of().formatHex(entry.getValue())).append('\n');
        }
        Files.deleteIfExists(target);
        Files.createFile(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(target, text, StandardCharsets.UTF_8);
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
