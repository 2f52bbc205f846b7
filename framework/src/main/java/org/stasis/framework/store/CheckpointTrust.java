package org.stasis.framework.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A checkpoint is a program: restarting one runs its code as the user who restarts it.
 * So only checkpoints the user alone could have written are restarted, verified or
 * listed as healthy: the checkpoint root, the checkpoint's directory, its manifest,
 * images and plugin files must belong to the user and be writable by nobody else,
 * every file the manifest names must be a plain name inside the checkpoint, and every
 * file must be a regular file (a FIFO named as an image would block its reader). The
 * same rule as the runtime directory's; {@code --trust} lifts it for one command.
 */
public final class CheckpointTrust {
    private static final Set<PosixFilePermission> OTHERS_WRITE = Set.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_WRITE);

    private final int uid;

    /** @param uid the user the checkpoint must belong to (the coordinator's) */
    public CheckpointTrust(int uid) {
        this.uid = uid;
    }

    /** @return the rule for the user this JVM runs as */
    public static CheckpointTrust ofCurrentUser() {
        try {
            return new CheckpointTrust((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            throw new IllegalStateException("cannot tell which user this process runs as: " + e.getMessage(), e);
        }
    }

    /**
     * @param name a file name a checkpoint gives
     * @return whether it names a file directly inside the checkpoint directory
     */
    public static boolean isPlainName(String name) {
        return name != null && !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.length() <= 255
                && name.chars().noneMatch(c -> c == '/' || c == 0 || c == '\n' || c == '\r');
    }

    /**
     * Checks a directory checkpoints are written into.
     *
     * @param root the checkpoint directory
     * @throws CheckpointInvalidException if it is a symlink, not the user's or writable by others
     */
    public void checkRoot(Path root) throws CheckpointInvalidException {
        owned(root, true, "the checkpoint directory " + root);
    }

    /**
     * Checks the checkpoint's directory and its root before its manifest is read.
     *
     * @param directory the real checkpoint directory (symlinks such as latest resolved)
     * @throws CheckpointInvalidException if it is foreign
     */
    public void checkDirectory(Path directory) throws CheckpointInvalidException {
        Path root = directory.getParent();
        if (root != null) {
            owned(root, true, "the checkpoint directory " + root);
        }
        owned(directory, true, "checkpoint " + directory.getFileName());
    }

    /**
     * Checks one file a checkpoint holds, by a name it gives.
     *
     * @param directory the checkpoint directory
     * @param name the name the manifest gives
     * @param what what the file is, for the message
     * @return the file's path
     * @throws CheckpointInvalidException if the name is not plain or the file is foreign or not a regular file
     */
    public Path checkFile(Path directory, String name, String what) throws CheckpointInvalidException {
        if (!isPlainName(name)) {
            throw foreign(directory, "its manifest names " + what + " '" + printable(name)
                    + "' outside the checkpoint (only plain file names inside it are allowed)");
        }
        Path file = directory.resolve(name);
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            // a missing file is not foreign: the core's validation names what is missing
            owned(file, false, what + " " + name);
        }
        return file;
    }

    /**
     * Checks every file and directory under the checkpoint's plugins/ folder.
     *
     * @param directory the checkpoint directory
     * @throws CheckpointInvalidException if one is foreign, a symlink or not a regular file
     */
    public void checkPluginFiles(Path directory) throws CheckpointInvalidException {
        Path plugins = directory.resolve("plugins");
        if (!Files.exists(plugins, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all;
        try (Stream<Path> files = Files.walk(plugins)) {
            all = files.toList();
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read the plugin files of " + directory + ": " + e.getMessage(), e);
        }
        for (Path file : all) {
            boolean isDirectory = Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS);
            owned(file, isDirectory, "plugin file " + directory.relativize(file));
        }
    }

    /**
     * Checks the names a manifest gives and the files they name.
     *
     * @param directory the checkpoint directory
     * @param manifest its manifest
     * @throws CheckpointInvalidException if any is foreign
     */
    public void checkManifestFiles(Path directory, Manifest manifest) throws CheckpointInvalidException {
        for (ProcessImage image : manifest.images()) {
            checkFile(directory, image.image(), "memory image");
        }
        for (Map.Entry<String, Map<String, String>> plugin : manifest.plugins().entrySet()) {
            if (!isPlainName(plugin.getKey())) {
                throw foreign(directory, "its manifest names a plugin '" + printable(plugin.getKey())
                        + "' that is not a plain name");
            }
        }
        checkPluginFiles(directory);
    }

    private void owned(Path path, boolean directory, String what) throws CheckpointInvalidException {
        PosixFileAttributes attributes;
        int owner;
        try {
            attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            owner = (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + what + " (" + path + "): " + e.getMessage(), e);
        }
        if (attributes.isSymbolicLink()) {
            throw foreign(path, what + " is a symbolic link");
        }
        if (directory ? !attributes.isDirectory() : !attributes.isRegularFile()) {
            throw foreign(path, what + " is not a " + (directory ? "directory" : "regular file"));
        }
        if (owner != uid) {
            throw foreign(path, what + " belongs to uid " + owner + ", not to you (uid " + uid + ")");
        }
        if (attributes.permissions().stream().anyMatch(OTHERS_WRITE::contains)) {
            throw foreign(path, what + " is writable by group or others (chmod go-w it if you trust it)");
        }
    }

    private static CheckpointInvalidException foreign(Path where, String why) {
        return new CheckpointInvalidException("foreign checkpoint: " + why + " (" + where
                + "); a checkpoint is a program: restart only your own, or pass --trust if you trust whoever wrote it",
                true);
    }

    private static String printable(String name) {
        return name == null ? "null" : name.replaceAll("[\\p{Cntrl}]", "?");
    }
}
