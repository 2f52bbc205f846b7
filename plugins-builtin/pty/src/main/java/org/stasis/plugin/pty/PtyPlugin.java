package org.stasis.plugin.pty;

import java.util.HexFormat;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.FdSource;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * Terminals and standard streams. A program that ran in a terminal gets, at restart,
 * the terminal of {@code stasis restart} with the settings it had (raw mode of a REPL,
 * echo off, ...). Standard streams that pointed outside the computation (a terminal,
 * or a pipe or socket to a program that was not checkpointed) are connected to those
 * of {@code stasis restart}: the old peer is gone, the new caller takes its place.
 */
@Component(property = "service.ranking:Integer=100")
@StasisPlugin("pty")
public class PtyPlugin implements WriteCallback, RestartCallback {
    private static final String STREAM = "stream.";
    private static final String TERMIOS = "termios.";

    @Override
    public void write(CheckpointContext context) {
        for (ProcessInfo process : context.computation().processes()) {
            for (OpenFd fd : context.openFds(process.pid())) {
                String key = process.pid() + "." + fd.fd();
                if (fd.kind() == OpenFd.Kind.TERMINAL) {
                    context.records().put(STREAM + key, "terminal");
                    context.terminalSettings(process.pid(), fd.fd()).ifPresent(
                            termios -> context.records().put(TERMIOS + key, HexFormat.of().formatHex(termios)));
                } else if (fd.fd() <= 2 && (fd.kind() == OpenFd.Kind.PIPE || fd.kind() == OpenFd.Kind.SOCKET)) {
                    context.records().put(STREAM + key, fd.kind().name().toLowerCase());
                }
            }
        }
    }

    @Override
    public void restart(RestartContext context) {
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            if (!record.getKey().startsWith(STREAM)) {
                continue;
            }
            String[] key = record.getKey().substring(STREAM.length()).split("\\.");
            int pid = Integer.parseInt(key[0]);
            int fd = Integer.parseInt(key[1]);
            ProcessPlan process = context.plan().process(pid);
            // Standard streams map to the caller's same stream; any other terminal fd to its stdin.
            process.installFd(fd, new FdSource.Inherited(fd <= 2 ? fd : 0));
            context.records().get(TERMIOS + pid + "." + fd)
                    .ifPresent(hex -> process.terminalSettings(fd, HexFormat.of().parseHex(hex)));
        }
    }
}
