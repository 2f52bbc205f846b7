package org.stasis.plugin.pty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.stasis.api.CheckpointContext;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ProcessInfo;

/**
 * Finds the pseudo-terminals of a suspended computation (those whose master one of
 * its processes holds), saves their state and drains the bytes buffered in them.
 */
final class Survey {
    private static final int FIRST_PTS_MAJOR = 136;
    private static final int LAST_PTS_MAJOR = 143;

    /** What /proc/PID/stat says about a process's controlling terminal. */
    private record Stat(int session, int ttyIndex, int foregroundGroup) {
    }

    private final Terminal t;
    private final Drain drain;
    private final Path proc;

    Survey(Terminal t, Path proc) {
        this.t = t;
        this.drain = new Drain(t);
        this.proc = proc;
    }

    Snapshot take(CheckpointContext context) throws IOException {
        Snapshot s = new Snapshot();
        ProcessAccess access = context.processes();
        Map<Integer, List<Holder>> masters = new TreeMap<>();
        Map<Integer, List<Holder>> slaves = new TreeMap<>();
        Map<Integer, Stat> stats = new HashMap<>();
        for (ProcessInfo p : context.computation().processes()) {
            stats.put(p.pid(), stat(p.hostPid()));
            for (OpenFd fd : context.openFds(p.pid())) {
                if (fd.isPtyMaster()) {
                    int dup = access.duplicate(p.pid(), fd.fd());
                    int index = t.index(dup);
                    s.masterFds.putIfAbsent(index, dup);
                    masters.computeIfAbsent(index, k -> new ArrayList<>()).add(new Holder(p.pid(), fd.fd(), fd.flags()));
                }
            }
        }
        for (ProcessInfo p : context.computation().processes()) {
            for (OpenFd fd : context.openFds(p.pid())) {
                int index = slaveIndex(fd, stats.get(p.pid()));
                if (index >= 0 && masters.containsKey(index)) {
                    s.slaveFds.putIfAbsent(index, access.duplicate(p.pid(), fd.fd()));
                    slaves.computeIfAbsent(index, k -> new ArrayList<>()).add(new Holder(p.pid(), fd.fd(), fd.flags()));
                }
            }
            session(context, p, stats.get(p.pid()), masters, s);
        }
        for (Map.Entry<Integer, List<Holder>> m : masters.entrySet()) {
            int index = m.getKey();
            int master = s.masterFds.get(index);
            s.ptys.put(index, new Pty(index, t.settings(master), t.windowSize(master), t.packetMode(master),
                    t.locked(master), m.getValue(), slaves.getOrDefault(index, List.of())));
            s.data.put(index, new Snapshot.Buffered(drain.input(s.slaveFds.get(index)), drain.output(master)));
        }
        return s;
    }

    // A session leader gets its terminal back at restart; other members cannot (the kernel
    // gives it only to the leader and its later children): say so.
    private static void session(CheckpointContext context, ProcessInfo p, Stat stat, Map<Integer, List<Holder>> masters,
            Snapshot s) {
        if (stat == null || !masters.containsKey(stat.ttyIndex())) {
            return;
        }
        if (stat.session() == p.hostPid()) {
            int foreground = context.computation().processes().stream().filter(q -> q.hostPid() == stat.foregroundGroup())
                    .mapToInt(ProcessInfo::pid).findFirst().orElse(0);
            s.sessions.put(p.pid(), new Snapshot.Session(stat.ttyIndex(), foreground));
        } else {
            context.log("process " + p.pid() + " (" + p.command() + ") will have no controlling terminal after a restart"
                    + " (only its session leader gets /dev/pts/" + stat.ttyIndex() + " back): /dev/tty fails there");
        }
    }

    private static int slaveIndex(OpenFd fd, Stat stat) {
        String target = fd.target();
        if (target.equals("/dev/tty")) {
            return stat == null ? -1 : stat.ttyIndex();
        }
        if (target.matches("/dev/pts/[0-9]+")) {
            return Integer.parseInt(target.substring("/dev/pts/".length()));
        }
        return -1;
    }

    private Stat stat(int hostPid) throws IOException {
        String text;
        try {
            text = Files.readString(proc.resolve(hostPid + "/stat"));
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        String[] f = text.substring(text.lastIndexOf(')') + 2).trim().split(" ");
        int tty = Integer.parseInt(f[4]);
        int major = (tty >> 8) & 0xfff;
        int minor = (tty & 0xff) | ((tty >> 12) & 0xfff00);
        int index = major >= FIRST_PTS_MAJOR && major <= LAST_PTS_MAJOR ? (major - FIRST_PTS_MAJOR) * 256 + minor : -1;
        return new Stat(Integer.parseInt(f[3]), index, Integer.parseInt(f[5]));
    }
}
