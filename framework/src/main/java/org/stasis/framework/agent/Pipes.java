package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.stasis.api.OpenFd;
import org.stasis.framework.dispatch.Diagnostics;

/**
 * Pipes between the processes of a computation: the data in flight is drained while
 * every process is suspended (through one read end, agent request {@code DRAIN}),
 * written into the checkpoint as {@code pipe-<inode>.data}, refilled after the
 * checkpoint ({@code FILL}) and, at restart, by the restorer, which recreates each
 * pipe once and installs its ends in every process (doc/restart-plan.md).
 *
 * A pipe is the computation's own when its processes hold both a read end and a
 * write end of it; a pipe of which they hold only one kind of end leads outside
 * (e.g. the stdout all of them share with the launcher) and is left to the plugins.
 */
final class Pipes {
    private static final int CHUNK = 3072;
    private static final int PAGE = 4096;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** One end of a pipe: an fd of a process. */
    record End(int pid, OpenFd fd) {
        boolean writes() {
            return (fd.flags() & 3) != 0;
        }

        /** @return whether data can be read through it (read-only, or a FIFO opened read-write) */
        boolean reads() {
            return (fd.flags() & 3) != 1;
        }
    }

    /** What was in a pipe, and the read end it was read through (for the refill). */
    record Drained(Agent reader, int fd, byte[] data) {
    }

    private Pipes() {
    }

    private static final String FIFO = "fifo:[";
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final Pattern FIFO_DATA = Pattern.compile(
            "fifo-[0-9]+-([0-9]+)-([0-9]+)\\.data");

    /**
     * @return the pipe's id if the fd is a pipe end ({@code pipe:[ino]}: the inode) or
     *         a FIFO end as {@link #withFifos} marks it ({@code fifo-<ino>}), else null
     */
    static String inode(OpenFd fd) {
        String t = fd.target();
        if (t.startsWith(FIFO) && t.endsWith("]")) {
            return "fifo-" + t.substring(FIFO.length(), t.length() - 1);
        }
        return t.startsWith("pipe:[") && t.endsWith("]") ? t.substring(6, t.length() - 1) : null;
    }

    /**
     * Marks the ends of named pipes (FIFOs), which the processes opened by path, as
     * {@code fifo:[ino]} so that their data in flight is drained like a pipe's (also
     * FIFOs whose name was removed while open). The FIFOs themselves are reopened by
     * path (or recreated, if unlinked) at restart by the file plugin; their data is put
     * back by {@link #refillFifos} once the processes are back.
     *
     * @param fds every process's open fds
     * @param hostPids the processes' pids as the coordinator sees them
     * @return the same fds, FIFO ends marked
     */
    static Map<Integer, List<OpenFd>> withFifos(Map<Integer, List<OpenFd>> fds, Map<Integer, Integer> hostPids) {
        Map<Integer, List<OpenFd>> marked = new TreeMap<>();
        fds.forEach((pid, list) -> marked.put(pid, list.stream().map(fd -> {
            boolean named = fd.kind() == OpenFd.Kind.PATH || fd.kind() == OpenFd.Kind.DELETED_FILE;
            if (!named || !hostPids.containsKey(pid)) {
                return fd;
            }
            try {
                Map<String, Object> file = Files.readAttributes(Path.of("/proc", hostPids.get(pid).toString(), "fd",
                        Integer.toString(fd.fd())), "unix:mode,ino");
                return ((Integer) file.get("mode") & S_IFMT) == S_IFIFO
                        ? new OpenFd(fd.fd(), FIFO + file.get("ino") + "]", fd.flags(), fd.offset())
                        : fd;
            } catch (IOException | UnsupportedOperationException e) {
                return fd;   // closed meanwhile or not a FIFO we can see: a plain file to the plugins
            }
        }).toList()));
        return marked;
    }

    /**
     * @return the name of the file that holds a pipe's or FIFO's data in a checkpoint;
     *         a FIFO's names the process and read end to refill after a restart
     */
    static String dataFile(String id, Drained drained) {
        return id.startsWith("fifo-") ? id + "-" + drained.reader().pid() + "-" + drained.fd() + ".data" : dataFile(id);
    }

    /**
     * Puts the data that was in FIFOs at checkpoint time back, through the read ends of
     * the restored processes (which reopened the FIFOs by path).
     *
     * @param directory the checkpoint
     * @param agents the restored processes
     * @param diagnostics hears the FIFOs that could not be refilled
     * @param operation the restart, for the event log
     * @throws IOException if the checkpoint cannot be read
     */
    static void refillFifos(Path directory, List<Agent> agents, Diagnostics diagnostics, String operation)
            throws IOException {
        Map<String, Drained> fifos = new TreeMap<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Matcher name = FIFO_DATA.matcher(file.getFileName().toString());
                if (!name.matches()) {
                    continue;
                }
                int pid = Integer.parseInt(name.group(1));
                Agent reader = agents.stream().filter(a -> a.pid() == pid).findFirst().orElse(null);
                if (reader != null) {
                    fifos.put(file.getFileName().toString(), new Drained(reader, Integer.parseInt(name.group(2)),
                            Files.readAllBytes(file)));
                }
            }
        }
        refill(fifos, diagnostics, operation);
    }

    /** @return the name of the file that holds a pipe's data in a checkpoint */
    static String dataFile(String inode) {
        return "pipe-" + inode + ".data";
    }

    /**
     * A FIFO counts as soon as a process of the computation can read it: the bytes a
     * writer left in it (or a writer outside the computation) are saved too, while an
     * anonymous pipe of which the computation holds only one kind of end leads outside.
     *
     * @param fds every process's open fds
     * @return the computation's own pipes (read and write ends inside) and the FIFOs it
     *         reads: id to ends, in pid and fd order
     */
    static Map<String, List<End>> internal(Map<Integer, List<OpenFd>> fds) {
        Map<String, List<End>> ends = new LinkedHashMap<>();
        new TreeMap<>(fds).forEach((pid, list) -> list.forEach(fd -> {
            String ino = inode(fd);
            if (ino != null) {
                ends.computeIfAbsent(ino, k -> new ArrayList<>()).add(new End(pid, fd));
            }
        }));
        ends.entrySet().removeIf(pipe -> pipe.getKey().startsWith("fifo-")
                ? pipe.getValue().stream().noneMatch(End::reads)
                : pipe.getValue().stream().noneMatch(End::writes) || pipe.getValue().stream().allMatch(End::writes));
        return ends;
    }

    /**
     * Reads what waits in every pipe of the computation (all processes suspended).
     *
     * @param agents the suspended processes
     * @param fds their fds
     * @param drained receives each pipe that had data (also on failure: refill those)
     * @throws IOException if an agent cannot read a pipe
     */
    static void drain(List<Agent> agents, Map<Integer, List<OpenFd>> fds, Map<String, Drained> drained)
            throws IOException {
        for (Map.Entry<String, List<End>> pipe : internal(fds).entrySet()) {
            End reader = pipe.getValue().stream().filter(e -> !e.writes()).findFirst()
                    .or(() -> pipe.getValue().stream().filter(End::reads).findFirst()).orElse(null);
            if (reader == null) {
                continue;
            }
            Agent agent = agents.stream().filter(a -> a.pid() == reader.pid()).findFirst().orElse(null);
            if (agent == null) {
                continue;
            }
            java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
            try {
                while (true) {
                    String answer = agent.request("DRAIN " + reader.fd().fd() + " " + CHUNK, TIMEOUT);
                    if (!answer.startsWith("DRAINED")) {
                        throw new IOException("process " + agent.pid() + " did not drain pipe " + pipe.getKey() + ": "
                                + answer);
                    }
                    byte[] chunk = HexFormat.of().parseHex(answer.substring(Math.min(answer.length(), 8)));
                    if (chunk.length == 0) {
                        break;
                    }
                    data.write(chunk);
                }
            } finally {
                if (data.size() > 0) {
                    drained.put(pipe.getKey(), new Drained(agent, reader.fd().fd(), data.toByteArray()));
                }
            }
        }
    }

    /**
     * A pipe holds 16 pages, not 64 KiB: a write that does not fit in the rest of the
     * last page takes a new page. Chunks that end on page boundaries (3072 + 1024 ...)
     * fill every page, so whatever a full pipe held fits again.
     *
     * @param at how many bytes were refilled so far
     * @return how many to send next
     */
    static int refillChunk(int at) {
        return Math.min(CHUNK, PAGE - at % PAGE);
    }

    /**
     * Puts the drained bytes back, in order (before the processes are released).
     *
     * @param drained what {@link #drain} took
     * @param diagnostics hears the pipes that could not be refilled
     * @param operation the checkpoint or restart, for the event log
     */
    static void refill(Map<String, Drained> drained, Diagnostics diagnostics, String operation) {
        for (Map.Entry<String, Drained> pipe : drained.entrySet()) {
            Drained d = pipe.getValue();
            try {
                for (int at = 0, end; at < d.data().length; at = end) {
                    end = Math.min(d.data().length, at + refillChunk(at));
                    String answer = d.reader().request("FILL " + d.fd() + " "
                            + HexFormat.of().formatHex(d.data(), at, end), TIMEOUT);
                    if (!answer.startsWith("FILLED")) {
                        throw new IOException(answer);
                    }
                }
            } catch (IOException e) {
                diagnostics.warning(operation, "refill", "process " + d.reader().pid() + ": pipe " + pipe.getKey()
                        + " could not be refilled: " + e.getMessage());
            }
        }
    }
}
