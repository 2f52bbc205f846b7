package org.stasis.plugin.event;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An inotify instance: its watches by watch descriptor. The kernel shows the watched
 * inode, not the path the program gave, so each watch carries the path found for the
 * inode at checkpoint time, or none.
 *
 * @param watches the watches, by ascending watch descriptor
 */
record InotifyState(List<Watch> watches) implements EventState {
    /**
     * One watch.
     *
     * @param wd the watch descriptor the program knows it by
     * @param mask the events it watches, with IN_ONESHOT and IN_EXCL_UNLINK if set
     * @param inode the watched inode number
     * @param device the inode's device, in the kernel's encoding (major << 20 | minor)
     * @param path a path of the inode, empty if none was found
     */
    record Watch(int wd, int mask, long inode, long device, String path) {
        boolean resolved() {
            return !path.isEmpty();
        }

        String encode() {
            return Integer.toHexString(wd) + "," + Integer.toHexString(mask) + "," + Long.toHexString(inode) + ","
                    + Long.toHexString(device) + "," + URLEncoder.encode(path, StandardCharsets.UTF_8);
        }

        static Watch decode(String text) {
            String[] parts = text.split(",", -1);
            return new Watch(Integer.parseInt(parts[0], 16), Integer.parseUnsignedInt(parts[1], 16),
                    FdInfo.hex(parts[2]), FdInfo.hex(parts[3]), URLDecoder.decode(parts[4], StandardCharsets.UTF_8));
        }
    }

    /** Finds a path for a watched inode. */
    @FunctionalInterface
    interface PathFinder {
        /**
         * @param inode the inode number
         * @param device the device in the kernel's encoding
         * @param handle the inode's file handle, if the kernel showed one
         * @return a path that leads to that inode now
         */
        Optional<String> find(long inode, long device, Optional<FileHandle> handle) throws IOException;
    }

    InotifyState {
        watches = List.copyOf(watches);
    }

    static InotifyState parse(List<String> fdinfo, PathFinder finder) throws IOException {
        List<Watch> watches = new ArrayList<>();
        for (String line : fdinfo) {
            if (!line.startsWith("inotify ")) {
                continue;
            }
            Map<String, String> pairs = FdInfo.pairs(line);
            long inode = FdInfo.hex(FdInfo.pair(pairs, "ino", line));
            long device = FdInfo.hex(FdInfo.pair(pairs, "sdev", line));
            String path = finder.find(inode, device, FileHandle.of(pairs)).orElse("");
            watches.add(new Watch(Integer.parseInt(FdInfo.pair(pairs, "wd", line), 16),
                    Integer.parseUnsignedInt(FdInfo.pair(pairs, "mask", line), 16), inode, device, path));
        }
        watches.sort(Comparator.comparingInt(Watch::wd));
        return new InotifyState(watches);
    }

    @Override
    public EventKind kind() {
        return EventKind.INOTIFY;
    }

    @Override
    public String encode() {
        StringBuilder text = new StringBuilder();
        for (Watch watch : watches) {
            text.append(text.length() == 0 ? "" : " ").append(watch.encode());
        }
        return text.toString();
    }

    static InotifyState decode(String text) {
        List<Watch> watches = new ArrayList<>();
        for (String word : text.trim().split(" ")) {
            if (!word.isEmpty()) {
                watches.add(Watch.decode(word));
            }
        }
        return new InotifyState(watches);
    }
}
