package org.stasis.plugin.event;

import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * The file handle (name_to_handle_at(2)) of a watched inode that the kernel prints in
 * an inotify fdinfo line, on file systems that can export handles.
 *
 * @param type the handle type
 * @param bytes the opaque handle
 */
record FileHandle(int type, byte[] bytes) {
    /** @param pairs the pairs of an {@code inotify wd:} line */
    static Optional<FileHandle> of(Map<String, String> pairs) {
        String type = pairs.get("fhandle-type");
        String handle = pairs.get("f_handle");
        if (type == null || handle == null || handle.isEmpty() || handle.length() % 2 != 0) {
            return Optional.empty();
        }
        return Optional.of(new FileHandle(Integer.parseInt(type, 16), HexFormat.of().parseHex(handle)));
    }
}
