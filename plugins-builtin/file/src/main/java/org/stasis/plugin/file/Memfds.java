package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.stasis.api.CheckpointContext;
import org.stasis.api.FdSource;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartContext;

/**
 * Memory files ({@code memfd_create}): /proc shows them as {@code /memfd:NAME (deleted)}.
 * They come back as memory files again, not as deleted plain files: same name, same
 * content and size, same seals ({@code F_GET_SEALS}), one object for every descriptor
 * that held it (in any process), and one open file description for descriptors that
 * shared one (same offset), a new one for each other (reopened with its own flags).
 */
final class Memfds {
    static final String PREFIX = "/memfd:";
    private static final String OBJECT = "memfd.";
    private static final String HOLDER = "memfdfd.";

    private final Map<String, List<SharedDescriptions.Holder>> byInode = new LinkedHashMap<>();
    private final Map<Integer, Integer> hostPids = new LinkedHashMap<>();

    /** @return whether the descriptor is a memory file */
    static boolean is(OpenFd fd) {
        return fd.kind() == OpenFd.Kind.DELETED_FILE && fd.path().startsWith(PREFIX);
    }

    /** Notes a descriptor of a memory file; {@link #save} writes them all. */
    void add(CheckpointContext context, ProcessInfo process, OpenFd fd) throws IOException {
        String inode = context.processes().fdInfo(process.pid(), fd.fd()).stream().filter(l -> l.startsWith("ino:"))
                .map(l -> l.substring(4).trim()).findFirst().orElseThrow(() -> new IOException("fd " + fd.fd()
                        + " of process " + process.pid() + ": the kernel shows no inode for memory file " + fd.path()));
        SharedDescriptions.Holder holder = new SharedDescriptions.Holder(process.pid(), fd);
        byInode.computeIfAbsent(inode, k -> new ArrayList<>()).add(holder);
        hostPids.put(process.pid(), process.hostPid());
    }

    /** Saves each memory file once (content, seals, name) and which descriptors held it. */
    void save(CheckpointContext context, Opener opener) throws IOException {
        for (Map.Entry<String, List<SharedDescriptions.Holder>> object : byInode.entrySet()) {
            SharedDescriptions.Holder first = object.getValue().get(0);
            refuseIfMappedShared(context, object.getKey(), first);
            String blob = "memfd-" + object.getKey() + ".data";
            Path source = Path.of("/proc", Integer.toString(hostPids.get(first.pid())), "fd",
                    Integer.toString(first.fd().fd()));
            Path copy = context.pluginDirectory().resolve(blob);
            Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-------"));
            int seals = opener.seals(context.processes().duplicate(first.pid(), first.fd().fd()));
            String name = first.fd().path().substring(PREFIX.length());
            context.records().put(OBJECT + object.getKey(), seals + " " + blob + " " + name);
            List<SharedDescriptions.Holder> firsts = new ArrayList<>();
            for (SharedDescriptions.Holder holder : object.getValue()) {
                int description = describe(context, firsts, holder);
                context.records().put(HOLDER + holder.key(), object.getKey() + " " + description + " "
                        + holder.fd().flags() + " " + holder.fd().offset());
            }
        }
    }

    // After a restart the shared mappings of a memory file are one object and its
    // descriptors another: writes through one would no longer show in the other.
    private static void refuseIfMappedShared(CheckpointContext context, String inode, SharedDescriptions.Holder holder)
            throws IOException {
        for (ProcessInfo process : context.computation().processes()) {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(process.hostPid()), "maps"))) {
                String[] parts = line.trim().split("\\s+", 6);
                if (parts.length == 6 && parts[1].charAt(3) == 's' && parts[4].equals(inode)
                        && parts[5].startsWith(PREFIX)) {
                    throw new IOException("process " + holder.pid() + " holds memory file " + holder.fd().path()
                            + " (fd " + holder.fd().fd() + ") that process " + process.pid() + " also maps shared"
                            + ": restarting both as one object is not supported yet; close the fd or unmap it before"
                            + " checkpointing");
                }
            }
        }
    }

    // The index of the holder's open file description among the object's descriptions.
    private static int describe(CheckpointContext context, List<SharedDescriptions.Holder> firsts,
            SharedDescriptions.Holder holder) throws IOException {
        for (int i = 0; i < firsts.size(); i++) {
            SharedDescriptions.Holder other = firsts.get(i);
            if (context.processes().sameOpenFile(other.pid(), other.fd().fd(), holder.pid(), holder.fd().fd())) {
                return i;
            }
        }
        firsts.add(holder);
        return firsts.size() - 1;
    }

    /** Recreates every saved memory file and installs its descriptors. */
    static void restore(RestartContext context, Opener opener) throws IOException {
        Map<String, Integer> objects = new LinkedHashMap<>();
        Map<String, String> seals = new LinkedHashMap<>();
        Map<String, Integer> descriptions = new LinkedHashMap<>();
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            if (record.getKey().startsWith(OBJECT)) {
                String[] parts = record.getValue().split(" ", 3);
                Path blob = context.pluginDirectory().resolve(parts[1]);
                if (!Files.isRegularFile(blob)) {
                    throw new IOException("the checkpoint lost the saved content of memory file " + parts[2] + " (" + blob
                            + ")");
                }
                String inode = record.getKey().substring(OBJECT.length());
                objects.put(inode, opener.memfd(parts[2], blob));
                seals.put(inode, parts[0]);
            }
        }
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            if (record.getKey().startsWith(HOLDER)) {
                String key = record.getKey().substring(HOLDER.length());
                String[] parts = record.getValue().split(" ");
                int memfd = objects.get(parts[0]);
                int flags = Integer.parseInt(parts[2]);
                Integer descriptor = descriptions.get(parts[0] + "/" + parts[1]);
                if (descriptor == null) {
                    long offset = Long.parseLong(parts[3]);
                    descriptor = parts[1].equals("0") ? opener.seek(memfd, offset) : opener.reopen(memfd, flags, offset);
                    descriptions.put(parts[0] + "/" + parts[1], descriptor);
                }
                int pid = Integer.parseInt(key.substring(0, key.indexOf('.')));
                int fd = Integer.parseInt(key.substring(key.indexOf('.') + 1));
                context.plan().process(pid).installFd(fd, new FdSource.Passed(descriptor, flags));
            }
        }
        for (Map.Entry<String, Integer> object : objects.entrySet()) {
            opener.seal(object.getValue(), Integer.parseInt(seals.get(object.getKey())));
        }
    }
}
