package org.stasis.framework.store;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.stasis.framework.util.Trees;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The checkpoint directory: {@code <root>/<name>-<generation>/} with a
 * {@code manifest.json}, written under a temporary name and renamed into place, and
 * {@code <root>/latest} pointing at the newest. Checkpoints contain program memory,
 * so everything is created for the owner alone (directories 0700, files 0600).
 */
public final class CheckpointStore {
    /** The manifest's file name inside a checkpoint. */
    public static final String MANIFEST = "manifest.json";
    /** The name of the link to the newest checkpoint. */
    public static final String LATEST = "latest";

    private static final String STAGING_PREFIX = ".staging-";
    private static final Pattern CHECKPOINT_NAME = Pattern.compile("(.+)-(\\d{1,18})");

    private static final int MAX_MANIFEST_BYTES = 64 << 20;
    private static final Pattern SHARED_START = Pattern.compile("[0-9a-f]{1,16}");
    private static final Pattern SHARED_KEY = Pattern.compile("[0-9A-Za-z:._-]{1,255}");

    private final Path root;
    private final Generations generations;
    private final CheckpointTrust trust = CheckpointTrust.ofCurrentUser();
    // One mapper for every store: a store is made per operation, and a new mapper builds its
    // (de)serializers for the manifest's records again on first use, 10-30 ms per checkpoint.
    private static final ObjectMapper JSON_MAPPER = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** @param root the checkpoint directory; created on first use */
    public CheckpointStore(Path root) {
        this(root, new Generations());
    }

    /**
     * @param root the checkpoint directory; created on first use
     * @param generations the generations already given, shared by the stores of one coordinator
     */
    public CheckpointStore(Path root, Generations generations) {
        this.root = root.toAbsolutePath().normalize();
        this.generations = generations;
    }

    /** @return the checkpoint directory */
    public Path root() {
        return root;
    }

    /**
     * Starts a new checkpoint of a computation: reserves the next generation and
     * creates its private staging directory.
     *
     * @param computation the computation's name
     * @return the staging area to write into
     * @throws IOException if the directory cannot be created
     */
    public synchronized Staging begin(String computation) throws IOException {
        createPrivateDirectories(root);
        try {
            // Another user who can write the root could swap the staging directory.
            trust.checkRoot(root);
        } catch (CheckpointInvalidException e) {
            throw new IOException(e.getMessage().replace("restart only your own, or pass --trust if you trust whoever wrote it",
                    "write checkpoints into a directory that only you can write (stasis ckptdir DIR)"), e);
        }
        removeAbandonedStagings(computation);
        long generation = generations.next(computation, nextGeneration(computation));
        String id = computation + "-" + generation;
        Path directory = root.resolve(STAGING_PREFIX + id);
        Trees.delete(directory);
        Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return new Staging(id, generation, directory);
    }

    /**
     * Publishes a staged checkpoint: writes its manifest, makes every file durable,
     * renames it to its final name and then moves {@code latest} to it.
     *
     * @param staging what was written
     * @param manifest its table of contents
     * @return the published checkpoint's directory
     * @throws IOException if any step fails; the staging area is left for {@link #discard}
     */
    public Path publish(Staging staging, Manifest manifest) throws IOException {
        seal(staging, manifest);
        return publishSealed(staging);
    }

    /**
     * The first half of {@link #publish}: writes the manifest and makes every file of the
     * staged checkpoint private and durable (fsync), without publishing it.
     *
     * @param staging what was written
     * @param manifest its table of contents
     * @throws IOException if a step fails; the staging area is left for {@link #discard}
     */
    public void seal(Staging staging, Manifest manifest) throws IOException {
        Path manifestFile = staging.directory().resolve(MANIFEST);
        Files.write(manifestFile, JSON_MAPPER.writeValueAsBytes(manifest));
        FileSync.makePrivate(staging.directory());
        FileSync.tree(staging.directory());
    }

    /**
     * The second half of {@link #publish}: renames a {@link #seal sealed} checkpoint to
     * its final name and moves {@code latest} to it.
     *
     * @param staging what was sealed
     * @return the published checkpoint's directory
     * @throws IOException if a step fails; the staging area is left for {@link #discard}
     */
    public Path publishSealed(Staging staging) throws IOException {
        Path target = root.resolve(staging.id());
        try {
            Files.move(staging.directory(), target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            throw new IOException("cannot publish " + staging.id() + ": " + e.getMessage(), e);
        }
        // One fsync of root (pointLatestAt's) makes both renames durable: until it returns
        // the caller has not heard of the checkpoint, and either rename alone is consistent.
        pointLatestAt(target);
        return target;
    }

    /**
     * Removes a staging area after a failed checkpoint.
     *
     * @param staging the staging area
     */
    public void discard(Staging staging) {
        try {
            Trees.delete(staging.directory());
        } catch (IOException e) {
            // Leftover staging directories are ignored by readers and replaced by the next begin.
        }
    }

    /**
     * Reads and validates a checkpoint's manifest.
     *
     * @param checkpoint a checkpoint directory, or the store's {@code latest} link
     * @return the manifest
     * @throws CheckpointInvalidException with a one-line reason if it is not usable
     */
    public Manifest read(Path checkpoint) throws CheckpointInvalidException {
        return read(checkpoint, false);
    }

    /**
     * Reads and validates a checkpoint's manifest.
     *
     * @param checkpoint a checkpoint directory, or the store's {@code latest} link
     * @param trusted skip the ownership rule of {@link CheckpointTrust} (the user's
     *        explicit {@code --trust}); names must still be plain and files regular
     * @return the manifest
     * @throws CheckpointInvalidException with a one-line reason if it is not usable
     */
    public Manifest read(Path checkpoint, boolean trusted) throws CheckpointInvalidException {
        Path directory = resolve(checkpoint);
        Path file = directory.resolve(MANIFEST);
        if (!trusted) {
            trust.checkDirectory(directory);
        }
        byte[] bytes = readManifestBytes(directory, file, trusted);
        Manifest manifest;
        try {
            manifest = JSON_MAPPER.readValue(bytes, Manifest.class);
        } catch (JsonProcessingException e) {
            throw new CheckpointInvalidException(file + " is corrupt (" + e.getOriginalMessage()
                    + "); the checkpoint cannot be restarted", e);
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + file + ": " + e.getMessage(), e);
        }
        validate(manifest, file);
        if (!trusted) {
            trust.checkManifestFiles(directory, manifest);
        } else {
            checkNames(directory, manifest);
        }
        return manifest;
    }

    // Sized before it is read (a sparse manifest of gigabytes must not fill the heap),
    // opened without following a symlink, and only if it is a regular file (a FIFO would block).
    private byte[] readManifestBytes(Path directory, Path file, boolean trusted) throws CheckpointInvalidException {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new CheckpointInvalidException(directory + " is not a complete checkpoint (no " + MANIFEST
                    + "); pick another with: stasis list");
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!attributes.isRegularFile()) {
            throw new CheckpointInvalidException(file + " is not a regular file; the checkpoint cannot be used");
        }
        if (attributes.size() > MAX_MANIFEST_BYTES) {
            throw new CheckpointInvalidException(file + " is " + attributes.size() + " bytes, more than a manifest can be ("
                    + MAX_MANIFEST_BYTES + "); the checkpoint is corrupt");
        }
        if (!trusted) {
            trust.checkFile(directory, MANIFEST, "manifest");
        }
        try (var in = Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bytes = in.readNBytes(MAX_MANIFEST_BYTES + 1);
            if (bytes.length > MAX_MANIFEST_BYTES) {
                throw new CheckpointInvalidException(file + " grew past " + MAX_MANIFEST_BYTES + " bytes while read");
            }
            return bytes;
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    // Even a trusted checkpoint names only files inside itself.
    private static void checkNames(Path directory, Manifest manifest) throws CheckpointInvalidException {
        for (ProcessImage image : manifest.images()) {
            if (!CheckpointTrust.isPlainName(image.image())) {
                throw new CheckpointInvalidException(directory + ": its manifest names an image outside the checkpoint");
            }
        }
    }

    /**
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return the real checkpoint directory it names
     * @throws CheckpointInvalidException if it does not exist
     */
    public Path resolve(Path checkpoint) throws CheckpointInvalidException {
        try {
            return checkpoint.toRealPath();
        } catch (NoSuchFileException e) {
            throw new CheckpointInvalidException("no checkpoint at " + checkpoint + "; list them with: stasis list");
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot open " + checkpoint + ": " + e.getMessage(), e);
        }
    }

    /**
     * @return the published checkpoints in the store, oldest first
     * @throws IOException if the directory cannot be listed
     */
    public List<Path> list() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(p -> Entry.of(p).filter(e -> !e.staging()).isPresent()
                            && Files.isRegularFile(p.resolve(MANIFEST)))
                    .sorted(Comparator.comparingLong(p -> Entry.of(p).orElseThrow().generation()))
                    .collect(Collectors.toList());
        }
    }

    /**
     * Deletes the oldest published checkpoints of a computation beyond the newest
     * {@code keep}; never the one {@code latest} points at, nor one that a kept
     * checkpoint still needs (the chain of parents of an incremental checkpoint).
     *
     * @param computation the computation's name
     * @param keep how many to keep (at least 1)
     * @param kept receives one line per old checkpoint kept because a newer one needs it
     * @return the checkpoints deleted
     * @throws IOException if one cannot be deleted
     */
    public synchronized List<Path> prune(String computation, int keep, java.util.function.Consumer<String> kept)
            throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least one checkpoint, not " + keep);
        }
        Path latest = Files.exists(root.resolve(LATEST)) ? root.resolve(LATEST).toRealPath() : null;
        List<Path> mine = list().stream()
                .filter(p -> Entry.of(p).orElseThrow().computation().equals(computation))
                .collect(Collectors.toList());
        Map<String, String> neededBy = new java.util.HashMap<>();
        for (int i = Math.max(0, mine.size() - keep); i < mine.size(); i++) {
            chainOf(mine.get(i), neededBy);
        }
        if (latest != null) {
            chainOf(latest, neededBy);
        }
        List<Path> deleted = new java.util.ArrayList<>();
        for (int i = 0; i < mine.size() - keep; i++) {
            Path old = mine.get(i);
            if (latest != null && old.toRealPath().equals(latest)) {
                continue;
            }
            String name = old.getFileName().toString();
            if (neededBy.containsKey(name)) {
                kept.accept("kept " + name + ": " + neededBy.get(name) + " is incremental over it");
                continue;
            }
            Trees.delete(old);
            deleted.add(old);
        }
        return deleted;
    }

    /** {@link #prune(String, int, java.util.function.Consumer)} without the notes. */
    public List<Path> prune(String computation, int keep) throws IOException {
        return prune(computation, keep, line -> {
        });
    }

    /**
     * @param checkpoint a published checkpoint
     * @return the checkpoints it needs: its parent (the manifest's {@code base}), the
     *         parent's parent, and so on, nearest first (a broken link ends the list)
     */
    public List<String> chain(Path checkpoint) {
        Map<String, String> neededBy = new java.util.LinkedHashMap<>();
        chainOf(checkpoint, neededBy);
        return List.copyOf(neededBy.keySet());
    }

    // Every parent of checkpoint, each with the checkpoint that names it; stops at a broken link or a cycle.
    private void chainOf(Path checkpoint, Map<String, String> neededBy) {
        Path current = checkpoint;
        for (int depth = 0; depth < 64; depth++) {
            String base;
            try {
                base = read(current).base();
            } catch (CheckpointInvalidException e) {
                return;
            }
            if (base == null || base.contains("/") || base.startsWith(".") || neededBy.containsKey(base)) {
                return;
            }
            neededBy.put(base, current.getFileName().toString());
            current = root.resolve(base);
        }
    }

    // Two processes with one pid (two computations mixed into one checkpoint) can never be restarted.
    private static void checkNoPidTwice(Manifest manifest, Path file) throws CheckpointInvalidException {
        java.util.Set<Integer> pids = new java.util.HashSet<>();
        java.util.Set<String> files = new java.util.HashSet<>();
        for (ProcessImage image : manifest.images()) {
            if (image != null && (!pids.add(image.pid()) || !files.add(String.valueOf(image.image())))) {
                throw new CheckpointInvalidException(file + " lists process " + image.pid() + " (image "
                        + image.image() + ") twice: it mixes computations and cannot be restarted; restart a"
                        + " checkpoint of one computation");
            }
        }
        pids.clear();
        for (org.stasis.api.ProcessInfo process : manifest.processes()) {
            if (process != null && !pids.add(process.pid())) {
                throw new CheckpointInvalidException(file + " lists process " + process.pid() + " twice: it mixes"
                        + " computations and cannot be restarted; restart a checkpoint of one computation");
            }
        }
    }

    private static void validate(Manifest manifest, Path file) throws CheckpointInvalidException {
        if (manifest.formatVersion() != Manifest.FORMAT_VERSION) {
            throw new CheckpointInvalidException(file + " has format version " + manifest.formatVersion()
                    + " but this Stasis reads version " + Manifest.FORMAT_VERSION + "; use the Stasis that wrote it");
        }
        if (manifest.id() == null || manifest.computation() == null || manifest.processes() == null
                || manifest.images() == null || manifest.plugins() == null) {
            throw new CheckpointInvalidException(file + " is incomplete (missing fields); the checkpoint cannot be restarted");
        }
        checkNoPidTwice(manifest, file);
        for (ProcessImage image : manifest.images()) {
            if (image == null) {
                throw new CheckpointInvalidException(file + " is incomplete (an empty image entry)");
            }
            for (Map.Entry<String, String> shared : image.sharedMemory().entrySet()) {
                if (!SHARED_START.matcher(shared.getKey()).matches() || shared.getValue() == null
                        || !SHARED_KEY.matcher(shared.getValue()).matches()) {
                    throw new CheckpointInvalidException(file + " is corrupt (a shared memory entry of process "
                            + image.pid() + " is not an address and an object key)");
                }
            }
        }
        String arch = System.getProperty("os.arch");
        if (!arch.equals(manifest.arch())) {
            throw new CheckpointInvalidException("checkpoint " + manifest.id() + " was taken on " + manifest.arch()
                    + " and cannot be restarted on " + arch);
        }
    }

    // A coordinator killed in the middle of a checkpoint leaves its staging directory;
    // the next checkpoint of the same computation removes it (one writer per computation).
    private void removeAbandonedStagings(String computation) throws IOException {
        List<Path> abandoned;
        try (Stream<Path> entries = Files.list(root)) {
            abandoned = entries.filter(p -> Entry.of(p)
                    .filter(e -> e.staging() && e.computation().equals(computation)).isPresent())
                    .collect(Collectors.toList());
        }
        for (Path staging : abandoned) {
            Trees.delete(staging);
        }
    }

    private long nextGeneration(String computation) throws IOException {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.map(Entry::of).flatMap(Optional::stream)
                    .filter(e -> e.computation().equals(computation))
                    .mapToLong(Entry::generation)
                    .max().orElse(0) + 1;
        }
    }

    /** What a name in the store says: {@code <computation>-<generation>}, published or staging. */
    private record Entry(String computation, long generation, boolean staging) {
        static Optional<Entry> of(Path path) {
            String name = path.getFileName().toString();
            boolean staging = name.startsWith(STAGING_PREFIX);
            if (staging) {
                name = name.substring(STAGING_PREFIX.length());
            } else if (name.startsWith(".")) {
                return Optional.empty();
            }
            Matcher m = CHECKPOINT_NAME.matcher(name);
            return m.matches() ? Optional.of(new Entry(m.group(1), Long.parseLong(m.group(2)), staging))
                    : Optional.empty();
        }
    }

    /**
     * Points this directory's {@code latest} at a checkpoint below it (a computation's
     * subdirectory holds the checkpoint; this one then names the newest of any).
     *
     * @param target a published checkpoint under {@link #root()}
     * @throws IOException if the link cannot be made
     */
    public void linkLatest(Path target) throws IOException {
        pointLatestAt(root.relativize(target));
    }

    // A symlink created beside the old one and renamed over it: readers never see no latest.
    private void pointLatestAt(Path target) throws IOException {
        Path link = root.resolve(LATEST);
        Path temporary = root.resolve(STAGING_PREFIX + LATEST);
        Files.deleteIfExists(temporary);
        Files.createSymbolicLink(temporary, target.isAbsolute() ? target.getFileName() : target);
        Files.move(temporary, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        FileSync.one(root);
    }

    private static void createPrivateDirectories(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            Files.createDirectories(directory,
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }
}
