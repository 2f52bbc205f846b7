package org.stasis.framework.store;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.nio.file.ExtendedOpenOption;

class PageCacheWarmerTest {
    private static final int SIZE = 20 << 20;   // several windows, the last one short

    @TempDir
    Path dir;

    private final List<String> notes = new CopyOnWriteArrayList<>();

    // Like the agent's images: written with O_DIRECT, so none of it is in the page cache.
    private Path uncachedImage(String name) throws IOException {
        Path file = dir.resolve(name);
        ByteBuffer data = ByteBuffer.allocateDirect(SIZE + 4096).alignedSlice(4096);
        for (int i = 0; i < SIZE; i += 8) {
            data.putLong(i, i * 0x9E3779B97F4A7C15L);
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT)) {
            while (data.hasRemaining()) {
                out.write(data);
            }
            out.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            assumeFalse(true, "no O_DIRECT on " + dir + ": " + e.getMessage());
        }
        assumeFalse(cached(file), dir + " keeps O_DIRECT writes in memory (tmpfs?)");
        return file;
    }

    // every page of the file in the page cache (mincore, through MappedByteBuffer.isLoaded)
    private static boolean cached(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer map = in.map(FileChannel.MapMode.READ_ONLY, 0, in.size());
            return map.isLoaded();
        }
    }

    private static boolean cachedWithin(Path file, long millis) throws Exception {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!cached(file)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    @Test
    void readsEveryImageOfAPublishedCheckpointIntoThePageCache() throws Exception {
        Path first = uncachedImage("image-1.img");
        Path second = uncachedImage("image-7.img");
        try (PageCacheWarmer warmer = new PageCacheWarmer(notes::add)) {
            warmer.warm(dir, List.of("image-1.img", "image-7.img"));
            assertTrue(cachedWithin(first, 20_000), "image-1.img was not read into the page cache; notes: " + notes);
            assertTrue(cachedWithin(second, 20_000), "image-7.img was not read into the page cache; notes: " + notes);
        }
        assertTrue(notes.isEmpty(), notes.toString());
    }

    @Test
    void turnedOffLeavesTheImagesOnTheDisk() throws Exception {
        Path image = uncachedImage("image-1.img");
        try (PageCacheWarmer warmer = new PageCacheWarmer(notes::add)) {
            warmer.enabled(false);
            warmer.warm(dir, List.of("image-1.img"));
            // a warm that ran would have cached it in well under this (the test above)
            assertFalse(cachedWithin(image, 1_000), "read into the page cache although warm.cache is off");
        }
    }

    @Test
    void aMissingImageIsANoteNotAFailure() throws Exception {
        Path image = uncachedImage("image-2.img");
        try (PageCacheWarmer warmer = new PageCacheWarmer(notes::add)) {
            warmer.warm(dir, List.of("image-1.img", "image-2.img"));
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (notes.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        assertTrue(notes.size() == 1 && notes.get(0).contains("did not read"), notes.toString());
        assertFalse(cached(image), "the images after the missing one were read: the warm should have stopped");
    }
}
