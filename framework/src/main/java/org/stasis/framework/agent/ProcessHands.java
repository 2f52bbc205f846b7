package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.stasis.api.ProcessAccess;
import org.stasis.framework.util.Descriptors;

/**
 * What plugins may do inside the suspended processes of one operation, through their
 * agents. Duplicates are made once per process and descriptor and closed when the
 * operation ends.
 */
final class ProcessHands implements ProcessAccess {
    private final Map<Integer, Agent> agents = new LinkedHashMap<>();
    private final Map<List<Integer>, Integer> duplicates = new HashMap<>();
    private boolean closed;

    /** @param agents the operation's suspended processes */
    ProcessHands(List<Agent> agents) {
        agents.forEach(a -> this.agents.put(a.pid(), a));
    }

    @Override
    public synchronized int duplicate(int pid, int fd) throws IOException {
        if (closed) {
            throw new IOException("the operation is over: its processes run again");
        }
        List<Integer> key = List.of(pid, fd);
        Integer known = duplicates.get(key);
        if (known != null) {
            return known;
        }
        int copy = agent(pid).give(fd);
        duplicates.put(key, copy);
        return copy;
    }

    @Override
    public List<String> fdInfo(int pid, int fd) throws IOException {
        Path info = Path.of("/proc", Integer.toString(agent(pid).hostPid()), "fdinfo", Integer.toString(fd));
        try {
            return Files.readAllLines(info);
        } catch (NoSuchFileException e) {
            throw new IOException("process " + pid + " has no fd " + fd, e);
        }
    }

    @Override
    public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
        agent(pid).epollAdd(epfd, fd, events, data);
    }

    @Override
    public void controllingTerminal(int pid, int fd, int foregroundGroup) throws IOException {
        agent(pid).controllingTerminal(fd, foregroundGroup);
    }

    @Override
    public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
        try {
            return LibC.INSTANCE.syscall(LibC.SYS_KCMP, agent(pidA).hostPid(), agent(pidB).hostPid(), LibC.KCMP_FILE,
                    fdA, fdB) == 0;
        } catch (com.sun.jna.LastErrorException e) {
            throw new IOException("cannot compare fd " + fdA + " of process " + pidA + " with fd " + fdB + " of process "
                    + pidB + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void install(int pid, int fd, int descriptor, int flags) throws IOException {
        agent(pid).take(fd, descriptor, flags);
    }

    private Agent agent(int pid) throws IOException {
        Agent agent = agents.get(pid);
        if (agent == null) {
            throw new IOException("process " + pid + " is not a suspended process of the computation");
        }
        return agent;
    }

    /** Closes every duplicate: the processes are about to run again. */
    synchronized void close() {
        closed = true;
        Descriptors.closeAll(duplicates.values());
        duplicates.clear();
    }
}
