package org.stasis.framework.agent;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.stasis.api.OpenFd;

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
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** One end of a pipe: an fd of a process. */
    record End(int pid, OpenFd fd) {
        boolean writes() {
            return (fd.flags() & 3) != 0;
        }
    }

    /** What was in a pipe, and the read end it was read through (for the refill). */
    record Drained(Agent reader, int fd, byte[] data) {
    }

    private Pipes() {
    }

    /** @return the pipe's inode if the fd is a pipe end, else null */
    static String inode(OpenFd fd) {
        String t = fd.target();
        return t.startsWith("pipe:[") && t.endsWith("]") ? t.substring(6, t.length() - 1) : null;
    }

    /** @return the name of the file that holds a pipe's data in a checkpoint */
    static String dataFile(String inode) {
        return "pipe-" + inode + ".data";
    }

    /**
     * @param fds every process's open fds
     * @return the computation's own pipes (read and write ends inside): inode to ends, in pid and fd order
     */
    static Map<String, List<End>> internal(Map<Integer, List<OpenFd>> fds) {
        Map<String, List<End>> ends = new LinkedHashMap<>();
        new TreeMap<>(fds).forEach((pid, list) -> list.forEach(fd -> {
            String ino = inode(fd);
            if (ino != null) {
                ends.computeIfAbsent(ino, k -> new ArrayList<>()).add(new End(pid, fd));
            }
        }));
        ends.values().removeIf(list -> list.stream().noneMatch(End::writes) || list.stream().allMatch(End::writes));
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
            End reader = pipe.getValue().stream().filter(e -> !e.writes()).findFirst().orElse(null);
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
     * Puts the drained bytes back, in order (before the processes are released).
     *
     * @param drained what {@link #drain} took
     */
    static void refill(Map<String, Drained> drained) {
        for (Map.Entry<String, Drained> pipe : drained.entrySet()) {
            Drained d = pipe.getValue();
            try {
                for (int at = 0; at < d.data().length; at += CHUNK) {
                    int end = Math.min(d.data().length, at + CHUNK);
                    String answer = d.reader().request("FILL " + d.fd() + " "
                            + HexFormat.of().formatHex(d.data(), at, end), TIMEOUT);
                    if (!answer.startsWith("FILLED")) {
                        throw new IOException(answer);
                    }
                }
            } catch (IOException e) {
                System.err.println("stasis: process " + d.reader().pid() + ": pipe " + pipe.getKey()
                        + " could not be refilled: " + e.getMessage());
            }
        }
    }
}
