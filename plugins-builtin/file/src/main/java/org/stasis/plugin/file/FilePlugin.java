package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.FdSource;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * Regular files, directories and devices such as /dev/null that a program has open:
 * reopened at restart by path, at the same fd number with the same flags and offset
 * (an appending log keeps appending). Files the program had deleted while open are
 * copied into the checkpoint and come back deleted (FIFOs among them are made again
 * and unlinked, see {@link Fifos}). A file that is gone at restart
 * stops the restart with a message that names it, unless it is a scratch companion
 * (sqlite's -wal), which is recreated empty; one open for writing that changed is a
 * warning on the restart terminal (a {@code >} stream that grew continues at its end).
 * With the {@code save-files} option ({@link SavePolicy}) the contents of files are saved
 * in the checkpoint and put back at restart ({@link SavedFiles}).
 * Memory files (memfd_create) come back as memory files with their name, content and
 * seals. File locks (fcntl, OFD, flock) held through any descriptor are taken again inside
 * the restored process before it runs.
 */
@Component(property = "service.ranking:Integer=200")
@StasisPlugin("file")
public class FilePlugin implements DrainCallback, WriteCallback, RestartCallback {
    private Opener opener;
    private static final String OPEN = "open.";
    private static final String DELETED = "deleted.";
    private static final String SHARES = "shares.";
    private static final String FIFO = "fifo.";

    /**
     * Refuses what cannot be restarted before any memory is written, and takes the
     * descriptors its checks need while the agents are idle: during the write phase an
     * agent answers only once its image is written, so checks made there waited for the
     * last process's image (the core keeps duplicates for the whole operation).
     */
    @Override
    public void drain(CheckpointContext context) throws IOException {
        for (ProcessInfo process : context.computation().processes()) {
            Unsupported.checkSysV(process);
            for (OpenFd fd : context.openFds(process.pid())) {
                Unsupported.checkFd(context, process, fd, opener());
            }
        }
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        List<SharedDescriptions.Holder> opened = new ArrayList<>();
        Memfds memfds = new Memfds();
        SavedFiles saved = new SavedFiles(SavePolicy.parse(context.option(SavedFiles.OPTION).orElse(null)));
        for (ProcessInfo process : context.computation().processes()) {
            for (OpenFd fd : context.openFds(process.pid())) {
                String key = process.pid() + "." + fd.fd();
                if (fd.kind() != OpenFd.Kind.PIPE && fd.kind() != OpenFd.Kind.SOCKET) {
                    Locks.save(context, process, fd);
                }
                switch (fd.kind()) {
                    case PATH, DEVICE -> {
                        context.records().put(OPEN + key, OpenRecord.of(fd, Path.of(fd.path())).encode());
                        opened.add(new SharedDescriptions.Holder(process.pid(), fd));
                        saved.consider(process, fd);
                    }
                    case DELETED_FILE -> {
                        Path link = Path.of("/proc", Integer.toString(process.hostPid()), "fd",
                                Integer.toString(fd.fd()));
                        if (Memfds.is(fd)) {
                            memfds.add(context, process, fd);
                        } else if (Fifos.isFifo(link)) {
                            context.records().put(FIFO + key, new Fifos.Holder(process.pid(), fd.fd(), fd.flags(),
                                    Fifos.inode(link), fd.path()).encode());
                        } else {
                            context.records().put(DELETED + key, saveDeleted(context, process, fd));
                        }
                    }
                    default -> {
                        // Terminals, pipes, sockets and event fds belong to other plugins.
                    }
                }
            }
        }
        memfds.save(context, opener());
        saved.save(context, opener());
        SharedDescriptions.group(opened, context.processes())
                .forEach((holder, first) -> context.records().put(SHARES + holder, first));
    }

    // The kernel still has the data: read it through the descriptor's /proc link.
    private static String saveDeleted(CheckpointContext context, ProcessInfo process, OpenFd fd) throws IOException {
        String blob = process.pid() + "-" + fd.fd() + ".data";
        Path source = Path.of("/proc", Integer.toString(process.hostPid()), "fd", Integer.toString(fd.fd()));
        Path copy = context.pluginDirectory().resolve(blob);
        Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-------"));
        return fd.flags() + " " + fd.offset() + " " + blob + " " + fd.path();
    }

    @Override
    public void restart(RestartContext context) throws IOException {
        List<Fifos.Holder> fifos = new ArrayList<>();
        Map<String, OpenRecord> open = new TreeMap<>();
        context.records().asMap().forEach((key, value) -> {
            if (key.startsWith(OPEN)) {
                open.put(key.substring(OPEN.length()), OpenRecord.decode(value));
            }
        });
        Reopener reopener = new Reopener(context, open, SavedFiles.restore(context, opener()),
                SavedFiles.unsaved(context));
        for (Map.Entry<String, OpenRecord> record : open.entrySet()) {
            reopener.reopen(record.getKey(), record.getValue());
        }
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            String key = record.getKey();
            if (key.startsWith(OPEN)) {
                continue;
            } else if (key.startsWith(DELETED)) {
                restoreDeleted(context, key.substring(DELETED.length()), record.getValue());
            } else if (key.startsWith(FIFO)) {
                String holder = key.substring(FIFO.length());
                fifos.add(Fifos.Holder.decode(pidOf(holder), fdOf(holder), record.getValue()));
            }
        }
        reopenShared(context, reopener);
        Fifos.recreate(context, fifos, opener());
        Memfds.restore(context, opener());
        Locks.restore(context);
    }

    // Descriptors that shared one open file description get one again: opened here once
    // and handed to each of them, so they share the offset as before.
    private void reopenShared(RestartContext context, Reopener reopener) throws IOException {
        Map<String, List<String>> groups = new TreeMap<>();
        context.records().asMap().forEach((key, first) -> {
            if (key.startsWith(SHARES)) {
                groups.computeIfAbsent(first, k -> new ArrayList<>(List.of(k))).add(key.substring(SHARES.length()));
            }
        });
        for (Map.Entry<String, List<String>> group : groups.entrySet()) {
            OpenRecord first = OpenRecord.decode(context.records().get(OPEN + group.getKey()).orElseThrow(
                    () -> new IOException("the checkpoint's file records are inconsistent: no " + group.getKey())));
            int descriptor = opener().open(context.plan().rewrite(first.path()), first.flags(),
                    reopener.offset(group.getKey(), first));
            for (String holder : group.getValue()) {
                int flags = context.records().get(OPEN + holder).map(OpenRecord::decode).map(OpenRecord::flags)
                        .orElse(first.flags());
                context.plan().process(pidOf(holder)).installFd(fdOf(holder), new FdSource.Passed(descriptor, flags));
            }
        }
    }

    private synchronized Opener opener() {
        if (opener == null) {
            opener = new Opener();
        }
        return opener;
    }

    private void restoreDeleted(RestartContext context, String key, String value) throws IOException {
        String[] parts = value.split(" ", 4);
        int pid = pidOf(key);
        int fd = fdOf(key);
        Path blob = context.pluginDirectory().resolve(parts[2]);
        if (!Files.isRegularFile(blob, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("the checkpoint lost the saved copy of deleted file " + parts[3] + " (" + blob + ")");
        }
        // An unnamed file made here and passed: no copy is ever left in a shared directory.
        Path parent = Path.of(context.plan().rewrite(parts[3])).getParent();
        int descriptor = opener().openUnnamedCopy(blob, parent, Integer.parseInt(parts[0]), Long.parseLong(parts[1]));
        context.plan().process(pid).installFd(fd, new FdSource.Passed(descriptor, Integer.parseInt(parts[0])));
    }

    static int pidOf(String key) {
        return Integer.parseInt(key.substring(0, key.indexOf('.')));
    }

    static int fdOf(String key) {
        return Integer.parseInt(key.substring(key.indexOf('.') + 1));
    }
}
