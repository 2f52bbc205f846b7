package org.stasis.framework.lifecycle;

import java.io.IOException;
import java.util.List;

import org.stasis.api.ProcessAccess;

/** The process access of {@code preCheckpoint}: the processes still run, every call fails. */
final class RunningProcesses implements ProcessAccess {
    static final RunningProcesses INSTANCE = new RunningProcesses();

    private RunningProcesses() {
    }

    @Override
    public int duplicate(int pid, int fd) throws IOException {
        throw refused();
    }

    @Override
    public List<String> fdInfo(int pid, int fd) throws IOException {
        throw refused();
    }

    @Override
    public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
        throw refused();
    }

    @Override
    public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
        throw refused();
    }

    @Override
    public void install(int pid, int fd, int descriptor, int flags) throws IOException {
        throw refused();
    }

    @Override
    public void controllingTerminal(int pid, int fd, int foregroundGroup) throws IOException {
        throw refused();
    }

    private static IOException refused() {
        return new IOException("the processes still run during preCheckpoint: use process access in drain, write or resume");
    }
}
