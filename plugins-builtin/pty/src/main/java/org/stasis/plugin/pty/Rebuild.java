package org.stasis.plugin.pty;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.stasis.api.FdSource;
import org.stasis.api.RestartPlan;

/**
 * Recreates the saved pseudo-terminals at restart: a new pair per terminal (from
 * /dev/ptmx: the saved /dev/pts number if it is free, another one otherwise), its
 * settings, window size, buffered bytes, packet mode and lock, installed at every
 * saved holder. A terminal whose slave no process held keeps it closed (its master
 * reads EIO).
 */
final class Rebuild {
    /** A session leader to give its terminal back once its descriptors are installed. */
    record ControllingTerminal(int pid, int fd, int foregroundGroup) {
    }

    /** How many masters to open at most while looking for the saved number. */
    private static final int MAX_TRIES = 64;

    private final Terminal t;
    private final Consumer<String> log;

    Rebuild(Terminal t, Consumer<String> log) {
        this.t = t;
        this.log = log;
    }

    /** @return the session leaders that get a controlling terminal in {@code resume} */
    List<ControllingTerminal> rebuild(Snapshot saved, RestartPlan plan) throws IOException {
        List<ControllingTerminal> leaders = new ArrayList<>();
        for (Pty pty : saved.ptys.values()) {
            int index = recreate(pty, saved.buffered(pty.index()), plan);
            saved.sessions.forEach((pid, session) -> {
                if (session.index() == pty.index()) {
                    pty.slaves().stream().filter(h -> h.pid() == pid).findFirst().ifPresentOrElse(
                            h -> leaders.add(new ControllingTerminal(pid, h.fd(), session.foregroundGroup())),
                            () -> log.accept("process " + pid + " holds no descriptor on /dev/pts/" + index
                                    + ", its controlling terminal: it comes back without one"));
                }
            });
        }
        return leaders;
    }

    /**
     * A new master, numbered as the saved one if that number is free: the kernel gives
     * the lowest free number, so masters are opened (and the extra ones closed again)
     * until that number comes or a higher one shows it is taken. Programs that kept
     * the name of their terminal (ttyname) then find it unchanged.
     */
    private int openMaster(int wanted) throws IOException {
        List<Integer> opened = new ArrayList<>();
        try {
            while (opened.size() < MAX_TRIES) {
                int master = t.open("/dev/ptmx", Terminal.O_RDWR);
                opened.add(master);
                int index = t.index(master);
                if (index >= wanted) {
                    int chosen = index == wanted ? master : opened.get(0);
                    opened.remove(Integer.valueOf(chosen));
                    return chosen;
                }
            }
            return opened.remove(0);
        } finally {
            opened.forEach(t::close);
        }
    }

    private int recreate(Pty pty, Snapshot.Buffered data, RestartPlan plan) throws IOException {
        int master = openMaster(pty.index());
        int slave = -1;
        try {
            t.lock(master, false);
            int index = t.index(master);
            slave = t.open("/dev/pts/" + index, Terminal.O_RDWR);
            t.settings(master, pty.settings());
            t.windowSize(master, pty.windowSize());
            new Refill(t).refill(master, slave, pty.settings(), data.input(), data.output());
            t.packetMode(master, pty.packetMode());
            t.lock(master, pty.locked());
            for (Holder h : pty.masters()) {
                plan.process(h.pid()).installFd(h.fd(), new FdSource.Passed(master, h.flags()));
            }
            master = -1;                                   // the core owns it now
            for (Holder h : pty.slaves()) {
                plan.process(h.pid()).installFd(h.fd(), new FdSource.Passed(slave, h.flags()));
            }
            if (!pty.slaves().isEmpty()) {
                slave = -1;
            }
            if (index != pty.index()) {
                log.accept(pty.describe() + " is /dev/pts/" + index + " after the restart");
            }
            return index;
        } finally {
            if (master >= 0) {
                t.close(master);
            }
            if (slave >= 0) {
                t.close(slave);                            // no process held it: the master reads EIO, as before
            }
        }
    }
}
