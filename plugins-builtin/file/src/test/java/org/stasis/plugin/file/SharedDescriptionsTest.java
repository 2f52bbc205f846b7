package org.stasis.plugin.file;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;

class SharedDescriptionsTest {
    /** Descriptions as the kernel would tell them: holders in one set share one. */
    private final Set<Set<String>> descriptions = Set.of(Set.of("2.1", "2.2", "5.2"), Set.of("5.1"));
    private final List<String> compared = new ArrayList<>();

    private final ProcessAccess processes = new ProcessAccess() {
        @Override
        public int duplicate(int pid, int fd) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<String> fdInfo(int pid, int fd) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void epollAdd(int pid, int epfd, int fd, int events, long data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean sameOpenFile(int pidA, int fdA, int pidB, int fdB) throws IOException {
            compared.add(pidA + "." + fdA + "=" + pidB + "." + fdB);
            return descriptions.stream().anyMatch(d -> d.contains(pidA + "." + fdA) && d.contains(pidB + "." + fdB));
        }
    };

    private static SharedDescriptions.Holder holder(int pid, int fd, String path, int flags, long offset) {
        return new SharedDescriptions.Holder(pid, new OpenFd(fd, path, flags, offset));
    }

    @Test
    void stdoutAndStderrOfOneOpenAndTheChildsCopyFormOneGroup() throws IOException {
        Map<String, String> shared = SharedDescriptions.group(List.of(
                holder(2, 1, "/w/log", 01, 500),
                holder(2, 2, "/w/log", 02000001, 500),      // close-on-exec is per fd, not per description
                holder(5, 1, "/w/log", 01, 500),            // the same file opened again: its own offset
                holder(5, 2, "/w/log", 01, 500),
                holder(5, 3, "/w/other", 01, 500)), processes);

        assertEquals(Map.of("2.2", "2.1", "5.2", "2.1"), shared);
    }

    @Test
    void descriptorsThatCannotShareAreNotCompared() throws IOException {
        SharedDescriptions.group(List.of(
                holder(2, 1, "/w/log", 01, 500),
                holder(2, 2, "/w/log", 02, 500),            // other access mode
                holder(2, 3, "/w/log", 01, 700),            // other offset
                holder(2, 4, "/w/data", 01, 500)), processes);

        assertEquals(List.of(), compared);
    }
}
