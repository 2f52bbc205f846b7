package org.stasis.plugin.pty;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.FdSource;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.ProcessPlan;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * Terminals and standard streams.
 *
 * <p>Pseudo-terminals of the computation (a process of it holds the master: a
 * {@code script}-like parent and its child, a program with several ptys) come back
 * as new pairs with their settings, window size, packet mode, lock and the bytes
 * buffered in both directions (drained at checkpoint, put back when it is over and at
 * restart); the slave is installed where it was, and stays closed if no process held
 * it; a session leader whose controlling terminal it was gets it back with its
 * foreground group, so {@code /dev/tty} works there again. A restored pair usually
 * has another /dev/pts number (the event log says which).
 *
 * <p>A program that ran in a terminal outside the computation gets, at restart, the
 * terminal of {@code stasis restart} with the settings it had (raw mode of a REPL,
 * echo off, ...). Standard streams that pointed outside the computation (a terminal,
 * or a pipe or socket to a program that was not checkpointed) are connected to those
 * of {@code stasis restart}: the old peer is gone, the new caller takes its place.
 */
@Component(property = "service.ranking:Integer=100")
@StasisPlugin("pty")
public class PtyPlugin implements DrainCallback, WriteCallback, ResumeCallback, RestartCallback {
    private static final String STREAM = "stream.";
    private static final String TERMIOS = "termios.";
    // Operation store keys: drain to write and resume of a checkpoint; restart to its resume.
    private static final String SNAPSHOT = "snapshot";
    private static final String LEADERS = "leaders";

    private final Terminal terminal;
    private final Path proc;

    /** The component: system calls through the C library, processes under /proc. */
    public PtyPlugin() {
        this(Terminal.load(), Path.of("/proc"));
    }

    PtyPlugin(Terminal terminal, Path proc) {
        this.terminal = terminal;
        this.proc = proc;
    }

    @Override
    public void drain(CheckpointContext context) throws IOException {
        context.store().put(SNAPSHOT, new Survey(terminal, proc).take(context));
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        Snapshot snapshot = context.store().get(SNAPSHOT, Snapshot.class).orElseGet(Snapshot::new);
        snapshot.write(context.records(), context.pluginDirectory());
        Set<String> internal = new HashSet<>();
        for (Pty pty : snapshot.ptys.values()) {
            pty.masters().forEach(h -> internal.add(h.pid() + "." + h.fd()));
            pty.slaves().forEach(h -> internal.add(h.pid() + "." + h.fd()));
        }
        for (ProcessInfo process : context.computation().processes()) {
            for (OpenFd fd : context.openFds(process.pid())) {
                String key = process.pid() + "." + fd.fd();
                if (internal.contains(key) || fd.isPtyMaster()) {
                    continue;
                }
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
    public void resume(ResumeContext context) throws IOException {
        if (context.isRestart()) {
            for (Rebuild.ControllingTerminal c : leaders(context)) {
                try {
                    context.processes().controllingTerminal(c.pid(), c.fd(), c.foregroundGroup());
                } catch (IOException e) {
                    // e.g. a lone process restarted outside its own session: it runs on without one
                    context.log("process " + c.pid() + " did not get its controlling terminal back (fd " + c.fd()
                            + "): " + e.getMessage() + "; /dev/tty fails there");
                }
            }
            return;
        }
        Snapshot snapshot = context.store().remove(SNAPSHOT, Snapshot.class).orElse(null);
        if (snapshot != null) {
            refill(snapshot);
        }
    }

    private static List<Rebuild.ControllingTerminal> leaders(ResumeContext context) {
        return context.store().remove(LEADERS, Leaders.class).map(Leaders::all).orElse(List.of());
    }

    /** The session leaders restart leaves in the store for resume. */
    private record Leaders(List<Rebuild.ControllingTerminal> all) {
    }

    // The same terminals are still there: what the drain took goes back into them.
    private void refill(Snapshot snapshot) throws IOException {
        Refill refill = new Refill(terminal);
        for (Pty pty : snapshot.ptys.values()) {
            Snapshot.Buffered data = snapshot.buffered(pty.index());
            Integer slave = snapshot.slaveFds.get(pty.index());
            boolean opened = slave == null && data.output().length > 0;
            int slaveFd = opened ? terminal.open("/dev/pts/" + pty.index(), Terminal.O_RDWR) : slave == null ? -1 : slave;
            try {
                refill.refill(snapshot.masterFds.get(pty.index()), slaveFd, pty.settings(), data.input(), data.output());
            } finally {
                if (opened) {
                    terminal.close(slaveFd);                // closed again: the master reads EIO once emptied
                }
            }
        }
    }

    @Override
    public void restart(RestartContext context) throws IOException {
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
        Snapshot saved = Snapshot.read(context.records(), context.pluginDirectory());
        context.store().put(LEADERS, new Leaders(List.copyOf(new Rebuild(terminal, context::log).rebuild(saved, context.plan()))));
    }
}
