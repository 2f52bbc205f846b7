package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.stasis.api.CheckpointContext;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;

/**
 * Kernel objects behind descriptors and mappings that a restart cannot bring back yet.
 * Rather than publish a checkpoint that would restart wrong (the object silently gone
 * or replaced by a look-alike), the checkpoint is refused with one line naming the
 * process, the object and what to do.
 */
final class Unsupported {
    private static final long MQUEUE_MAGIC = 0x19800202L;

    private Unsupported() {
    }

    /**
     * @throws IOException naming the descriptor if it refers to a pidfd or a POSIX message queue
     */
    static void checkFd(CheckpointContext context, ProcessInfo process, OpenFd fd, Opener opener) throws IOException {
        if (fd.target().equals("anon_inode:[pidfd]")) {
            String target = context.processes().fdInfo(process.pid(), fd.fd()).stream().filter(l -> l.startsWith("Pid:"))
                    .map(l -> " for pid " + l.substring(4).trim()).findFirst().orElse("");
            throw refusal(process, "holds a pidfd (fd " + fd.fd() + target + ")", "close it before checkpointing");
        }
        if (fd.kind() == OpenFd.Kind.PATH && opener.fileSystem(context.processes().duplicate(process.pid(), fd.fd()))
                == MQUEUE_MAGIC) {
            throw refusal(process, "holds POSIX message queue " + fd.path() + " (fd " + fd.fd() + ")",
                    "close it (mq_close) before checkpointing");
        }
    }

    /**
     * @throws IOException if the process has a System V shared memory segment attached or
     *         used a System V message queue
     */
    static void checkSysV(ProcessInfo process) throws IOException {
        Optional<String> segment = lines(Path.of("/proc", Integer.toString(process.hostPid()), "maps")).stream()
                .filter(l -> l.contains(" /SYSV")).findFirst();
        if (segment.isPresent()) {
            String[] parts = segment.get().trim().split("\\s+");
            throw refusal(process, "has System V shared memory segment " + parts[5] + " (shmid " + parts[4]
                    + ") attached at " + parts[0].split("-")[0], "detach it (shmdt) before checkpointing");
        }
        // "key msqid perms cbytes qnum lspid lrpid ...": pids as the coordinator sees them
        for (String line : lines(Path.of("/proc/sysvipc/msg"))) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length > 6 && parts[0].matches("-?\\d+") && (parts[5].equals(Integer.toString(process.hostPid()))
                    || parts[6].equals(Integer.toString(process.hostPid())))) {
                throw refusal(process, "uses System V message queue " + parts[1] + " (key " + parts[0] + ")",
                        "remove it (msgctl IPC_RMID) before checkpointing");
            }
        }
    }

    private static IOException refusal(ProcessInfo process, String what, String todo) {
        return new IOException("process " + process.pid() + " " + what + ": restarting it is not supported yet; "
                + todo);
    }

    private static List<String> lines(Path file) throws IOException {
        try {
            return Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }
}
