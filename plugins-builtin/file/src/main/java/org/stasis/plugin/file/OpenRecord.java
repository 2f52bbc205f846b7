package org.stasis.plugin.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

import org.stasis.api.OpenFd;

/**
 * What the file plugin remembers of one open file: how to reopen it, and enough of
 * its state to tell whether it changed.
 *
 * @param flags the open(2) flags
 * @param offset the file offset
 * @param size the file's size at checkpoint time (-1 if unknown)
 * @param modified its modification time in milliseconds (-1 if unknown)
 * @param path its absolute path
 */
record OpenRecord(int flags, long offset, long size, long modified, String path) {
    static OpenRecord of(OpenFd fd, Path path) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
            long size = attributes.isRegularFile() ? attributes.size() : -1;
            long modified = attributes.isRegularFile() ? attributes.lastModifiedTime().toMillis() : -1;
            return new OpenRecord(fd.flags(), fd.offset(), size, modified, fd.path());
        } catch (IOException e) {
            return new OpenRecord(fd.flags(), fd.offset(), -1, -1, fd.path());
        }
    }

    String encode() {
        return flags + " " + offset + " " + size + " " + modified + " " + path;
    }

    static OpenRecord decode(String text) {
        String[] parts = text.split(" ", 5);
        return new OpenRecord(Integer.parseInt(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]),
                Long.parseLong(parts[3]), parts[4]);
    }

    /**
     * @param now the file's attributes at restart
     * @return how it changed, or empty if it did not (or cannot be told)
     */
    String describeChange(BasicFileAttributes now) {
        if (size < 0 || !now.isRegularFile()) {
            return "";
        }
        if (now.size() != size) {
            String shrunk = now.size() < offset ? "; it is now shorter than the program's offset " + offset : "";
            return "size " + size + " -> " + now.size() + " bytes" + shrunk;
        }
        if (now.lastModifiedTime().toMillis() != modified) {
            return "modified at " + now.lastModifiedTime() + " (same size)";
        }
        return "";
    }
}
