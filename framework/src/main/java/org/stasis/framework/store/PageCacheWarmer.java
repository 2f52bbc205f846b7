package org.stasis.framework.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Has the kernel read the newest checkpoint's memory images into the page cache, in the
 * background, once it is published. The agent writes images with O_DIRECT, past the
 * cache, so a restart soon after would read every page back from the disk twice over: for
 * the page check, then (lazily) for the program. Warm, both find the pages in memory.
 *
 * <p>Bounded: only the newest checkpoint (the next checkpoint beginning, or a restart of
 * another one, stops what is not yet asked for), and only when its images are at most a
 * quarter of the memory available ({@code MemAvailable}), so it never pushes much else out
 * of the cache.
 * It asks for readahead ({@code posix_fadvise(WILLNEED)}; no copy), one {@link #WINDOW} at
 * a time: before asking for the next window it waits for the last page of the one before
 * (a one-byte read), so at most two windows are queued at the disk. That reads as fast as
 * queueing the whole image at once (measured: 257 MiB in ~180 ms either way), and the
 * next checkpoint's write, which stops the warm, finds at most ~16 MiB of reads ahead of
 * it instead of the whole image. One request covers at most {@link #STEP} bytes because
 * the kernel reads no more than the device's readahead window per call (128 KiB by
 * default) and silently drops the rest.
 */
public final class PageCacheWarmer implements AutoCloseable {
    /** bytes per readahead request */
    static final long STEP = 128L << 10;
    /** bytes asked for before waiting for the window before */
    static final long WINDOW = 8L << 20;
    /** images followed up a chain at most: the restorer's own limit (CHAIN_MAX) and one */
    static final int MAX_CHAIN = 33;

    private interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int O_RDONLY = 0;
        int O_NOFOLLOW = 0400000;
        int O_CLOEXEC = 02000000;
        int POSIX_FADV_WILLNEED = 3;

        int open(String path, int flags) throws LastErrorException;

        int posix_fadvise(int fd, long offset, long length, int advice);

        long pread(int fd, byte[] buffer, long count, long offset) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "stasis-warm-cache");
        t.setDaemon(true);
        return t;
    });
    // every stop takes a new number; a warm goes on while the number it started with is the last
    private final AtomicLong turn = new AtomicLong();
    private final Consumer<String> note;
    private volatile boolean enabled = true;
    // the checkpoint being warmed (its real path), for a restart to compare with
    private final AtomicReference<Path> warming = new AtomicReference<>();

    /** @param note told, in one line, why a checkpoint was not warmed (too big, unreadable) */
    public PageCacheWarmer(Consumer<String> note) {
        this.note = note;
    }

    /** @param on whether published checkpoints are warmed ({@code warm.cache}) */
    public void enabled(boolean on) {
        enabled = on;
        if (!on) {
            stop();
        }
    }

    /**
     * A checkpoint begins: no more readahead for the ones before (its write goes first,
     * and it will be the newest). The parts of one checkpoint that spans hosts, placed
     * here, each stop it as they begin and are each warmed once published.
     */
    public void stop() {
        turn.incrementAndGet();
    }

    /**
     * A restart begins: the warm goes on if it is of that checkpoint (the restart then
     * reads what the warm has brought in), and stops if not (its reads would only compete
     * with the restart's).
     *
     * @param checkpoint the checkpoint restarted, a directory or a {@code latest} link
     */
    public void restarting(Path checkpoint) {
        Path current = warming.get();
        try {
            if (current != null && checkpoint.toRealPath().equals(current)) {
                return;
            }
        } catch (IOException e) {
            // not a checkpoint we can name: the restart will say so; nothing to warm for it
        }
        stop();
    }

    /**
     * Warms a published checkpoint's images in the background; returns at once.
     *
     * @param directory the published checkpoint
     * @param images its image files' names
     */
    public void warm(Path directory, List<String> images) {
        long mine = turn.get();
        if (!enabled || images.isEmpty()) {
            return;
        }
        Path real;
        try {
            real = directory.toRealPath();
        } catch (IOException e) {
            note.accept("did not read " + directory.getFileName() + " into the page cache: " + e.getMessage());
            return;
        }
        warming.set(real);
        thread.execute(() -> {
            try {
                warmNow(directory, images, mine);
            } catch (IOException | RuntimeException e) {
                note.accept("did not read " + directory.getFileName() + " into the page cache: " + e.getMessage()
                        + " (a restart reads it from the disk)");
            } finally {
                warming.compareAndSet(real, null);
            }
        });
    }

    private void warmNow(Path directory, List<String> images, long mine) throws IOException {
        if (turn.get() != mine) {
            return;
        }
        List<Path> files = withParents(directory, images);
        long total = 0;
        for (Path file : files) {
            total += Files.size(file);
        }
        long available = memAvailable();
        if (total > available / 4) {
            note.accept("did not read " + directory.getFileName() + " into the page cache: its images ("
                    + (total >> 20) + " MiB) are more than a quarter of the memory available (" + (available >> 20)
                    + " MiB)");
            return;
        }
        for (Path file : files) {
            if (!readAhead(file, mine)) {
                return;
            }
        }
    }

    /**
     * The images and, for an incremental checkpoint, the images its runs take unchanged
     * pages from, up its chain: a restart checks and maps those too. They were warmed when
     * they were published, unless a checkpoint right after cut that short; readahead of
     * pages already cached costs next to nothing.
     */
    static List<Path> withParents(Path directory, List<String> images) throws IOException {
        Set<Path> files = new LinkedHashSet<>();
        for (String image : images) {
            Path file = directory.resolve(image);
            for (int depth = 0; file != null && depth < MAX_CHAIN && files.add(file); depth++) {
                String parent;
                try {
                    parent = ImageFile.check(file, false).parent();
                } catch (CheckpointInvalidException e) {
                    parent = "";     // its parent unknown: a restart would refuse it, warmed or not
                }
                Path store = file.getParent().getParent();
                file = parent.isEmpty() || store == null ? null : store.resolve(parent);
            }
        }
        return List.copyOf(files);
    }

    // false once a newer turn began
    private boolean readAhead(Path file, long mine) throws IOException {
        long size = Files.size(file);
        int fd;
        try {
            fd = LibC.INSTANCE.open(file.toString(), LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + file + " (errno " + e.getErrorCode() + ")");
        }
        try {
            byte[] one = new byte[1];
            for (long window = 0; window < size; window += WINDOW) {
                if (turn.get() != mine) {
                    return false;
                }
                long end = Math.min(window + WINDOW, size);
                for (long offset = window; offset < end; offset += STEP) {
                    int error = LibC.INSTANCE.posix_fadvise(fd, offset, Math.min(STEP, end - offset),
                            LibC.POSIX_FADV_WILLNEED);
                    if (error != 0) {
                        throw new IOException("readahead of " + file + " failed (errno " + error + ")");
                    }
                }
                if (window > 0) {
                    LibC.INSTANCE.pread(fd, one, 1, window - 1);   // the window before is in
                }
            }
            return true;
        } catch (LastErrorException e) {
            throw new IOException("cannot read " + file + " (errno " + e.getErrorCode() + ")");
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    // bytes; 0 if /proc/meminfo cannot say (then nothing is warmed)
    static long memAvailable() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) << 10;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    @Override
    public void close() {
        stop();
        thread.shutdownNow();
    }
}
