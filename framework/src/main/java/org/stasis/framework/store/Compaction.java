package org.stasis.framework.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.stasis.framework.util.Trees;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code stasis compact CKPT}: a self-contained copy of an incremental checkpoint,
 * {@code CKPT.compact} beside it: every memory image with its parents' pages copied in
 * ({@code stasis-restore --compact}), every other file copied, the manifest without
 * {@code base}. The copy restarts without the chain; the original is left as it is.
 */
public final class Compaction {
    private static final long TIMEOUT_MINUTES = 30;
    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Compaction() {
    }

    /**
     * @param restorer the {@code stasis-restore} binary
     * @param checkpoint a published checkpoint directory
     * @return the copy's directory
     * @throws CheckpointInvalidException if the checkpoint or its chain is unusable (one line)
     * @throws IOException if the copy cannot be written (nothing is left of it)
     */
    public static Path compact(Path restorer, Path checkpoint) throws CheckpointInvalidException, IOException {
        CheckpointStore store = new CheckpointStore(checkpoint.toAbsolutePath().normalize().getParent());
        Path source = store.resolve(checkpoint);
        Manifest manifest = store.read(source);
        Path target = source.resolveSibling(source.getFileName() + ".compact");
        try {
            Files.createDirectory(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            throw new IOException(target + " exists already; remove it to compact " + source.getFileName() + " again", e);
        }
        try {
            copy(restorer, source, target, manifest);
            FileSync.makePrivate(target);
            FileSync.tree(target);
            return target;
        } catch (CheckpointInvalidException | IOException | RuntimeException e) {
            Trees.delete(target);
            throw e;
        }
    }

    private static void copy(Path restorer, Path source, Path target, Manifest manifest)
            throws CheckpointInvalidException, IOException {
        Set<String> images = manifest.images().stream().map(ProcessImage::image).collect(Collectors.toSet());
        List<Path> files;
        try (Stream<Path> walk = Files.walk(source)) {
            files = walk.filter(p -> !p.equals(source)).collect(Collectors.toList());
        }
        for (Path file : files) {
            Path to = target.resolve(source.relativize(file).toString());
            String name = source.relativize(file).toString();
            if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(to);
            } else if (images.contains(name)) {
                run(restorer, file, to);
            } else if (name.equals(CheckpointStore.MANIFEST)) {
                ObjectNode tree = (ObjectNode) JSON.readTree(file.toFile());
                tree.putNull("base");
                Files.write(to, JSON.writeValueAsBytes(tree));
            } else {
                Files.copy(file, to, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    private static void run(Path restorer, Path image, Path out) throws CheckpointInvalidException, IOException {
        Process process = new ProcessBuilder(List.of(restorer.toString(), "--compact", image.toString(), out.toString()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(false).start();
        try {
            byte[] said = process.getErrorStream().readNBytes(4096);
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException(restorer + " --compact " + image + " did not finish within " + TIMEOUT_MINUTES
                        + " minutes");
            }
            if (process.exitValue() != 0) {
                String line = new String(said, StandardCharsets.UTF_8).strip().lines().findFirst()
                        .orElse(restorer + " --compact exited with status " + process.exitValue());
                throw new CheckpointInvalidException(line.startsWith("stasis: ") ? line.substring(8) : line);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while compacting " + image, e);
        }
    }
}
