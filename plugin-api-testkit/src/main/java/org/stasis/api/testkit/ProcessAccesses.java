package org.stasis.api.testkit;

import java.io.IOException;
import java.util.List;

import org.stasis.api.FdSource;
import org.stasis.api.ProcessAccess;

/** The core's hands in the processes of a {@link FakeComputation}, per phase. */
final class ProcessAccesses {
    private ProcessAccesses() {
    }

    /** The processes still run (preCheckpoint): every call fails, as the core's. */
    static final class Running implements ProcessAccess {
        @Override
        public int duplicate(int pid, int fd) throws IOException {
            throw new IOException("the processes are not suspended yet");
        }

        @Override
        public List<String> fdInfo(int pid, int fd) throws IOException {
            throw new IOException("the processes are not suspended yet");
        }

        @Override
        public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
            throw new IOException("the processes are not suspended yet");
        }

        @Override
        public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
            throw new IOException("the processes are not suspended yet");
        }
    }

    /** The suspended original processes: their descriptors are the test JVM's own. */
    static final class Suspended implements ProcessAccess {
        private final FakeComputation computation;

        Suspended(FakeComputation computation) {
            this.computation = computation;
        }

        @Override
        public int duplicate(int pid, int fd) throws IOException {
            return computation.duplicateOf(pid, held(pid, fd));
        }

        @Override
        public List<String> fdInfo(int pid, int fd) throws IOException {
            return Descriptors.fdInfo(held(pid, fd));
        }

        @Override
        public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
            throw new IOException("epollAdd is for resume after a restart");
        }

        @Override
        public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
            return Descriptors.sameOpenFile(held(pidA, fdA), held(pidB, fdB));
        }

        @Override
        public void install(int pid, int fd, int descriptor, int flags) throws IOException {
            computation.descriptors().dup3(descriptor, fd, flags);
            computation.installs().add(pid + ":" + fd);
        }

        private int held(int pid, int fd) throws IOException {
            if (!computation.fdsOf(pid).contains(fd)) {
                throw new IOException("process " + pid + " has no descriptor " + fd);
            }
            return fd;
        }
    }

    /** The restored processes: their descriptors are what the plan passed. */
    static final class Restored implements ProcessAccess {
        private final FakeComputation computation;

        Restored(FakeComputation computation) {
            this.computation = computation;
        }

        @Override
        public int duplicate(int pid, int fd) throws IOException {
            return descriptor(pid, fd);
        }

        @Override
        public List<String> fdInfo(int pid, int fd) throws IOException {
            return Descriptors.fdInfo(descriptor(pid, fd));
        }

        @Override
        public void epollAdd(int pid, int epfd, int fd, int events, long data) throws IOException {
            Descriptors.epollAdd(descriptor(pid, epfd), descriptor(pid, fd), events, data);
            computation.epollAdds().add(pid + ":" + epfd + ":" + fd);
        }

        @Override
        public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
            return Descriptors.sameOpenFile(descriptor(pidA, fdA), descriptor(pidB, fdB));
        }

        private int descriptor(int pid, int fd) throws IOException {
            if (!(computation.installed(pid).get(fd) instanceof FdSource.Passed passed)) {
                throw new IOException("Bad file descriptor: process " + pid + " fd " + fd);
            }
            return passed.descriptor();
        }
    }
}
