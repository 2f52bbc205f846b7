package org.stasis.framework.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.zip.CRC32C;

import static org.stasis.framework.store.ImageLayout.AREA_OFF_CRC;
import static org.stasis.framework.store.ImageLayout.FRAME_SIZE;
import static org.stasis.framework.store.ImageLayout.OFF_PROC_COMPRESS;
import static org.stasis.framework.store.ImageLayout.ZSTD;
import static org.stasis.framework.store.ImageLayout.AREA_OFF_RUN_COUNT;
import static org.stasis.framework.store.ImageLayout.AREA_OFF_RUN_FIRST;
import static org.stasis.framework.store.ImageLayout.AREA_OFF_START;
import static org.stasis.framework.store.ImageLayout.ARCH_LEN;
import static org.stasis.framework.store.ImageLayout.KERNEL_LEN;
import static org.stasis.framework.store.ImageLayout.MAX_AREAS;
import static org.stasis.framework.store.ImageLayout.OFF_ARCH;
import static org.stasis.framework.store.ImageLayout.OFF_DATA_BYTES;
import static org.stasis.framework.store.ImageLayout.OFF_FILE_SIZE;
import static org.stasis.framework.store.ImageLayout.OFF_HEADER_CRC;
import static org.stasis.framework.store.ImageLayout.OFF_HEADER_SIZE;
import static org.stasis.framework.store.ImageLayout.OFF_KERNEL;
import static org.stasis.framework.store.ImageLayout.OFF_N_AREAS;
import static org.stasis.framework.store.ImageLayout.OFF_N_RUNS;
import static org.stasis.framework.store.ImageLayout.OFF_N_THREADS;
import static org.stasis.framework.store.ImageLayout.OFF_PAGE_SIZE;
import static org.stasis.framework.store.ImageLayout.OFF_PID;
import static org.stasis.framework.store.ImageLayout.OFF_PROC_IMAGE_ID;
import static org.stasis.framework.store.ImageLayout.OFF_PROC_PARENT;
import static org.stasis.framework.store.ImageLayout.OFF_PROC_PARENT_ID;
import static org.stasis.framework.store.ImageLayout.PARENT_LEN;
import static org.stasis.framework.store.ImageLayout.VERSION_MIN;
import static org.stasis.framework.store.ImageLayout.OFF_TABLE_CRC;
import static org.stasis.framework.store.ImageLayout.OFF_TABLE_OFFSET;
import static org.stasis.framework.store.ImageLayout.OFF_TABLE_SIZE;
import static org.stasis.framework.store.ImageLayout.OFF_VERSION;
import static org.stasis.framework.store.ImageLayout.RUN_OFF_FILE_OFFSET;
import static org.stasis.framework.store.ImageLayout.RUN_OFF_LEN;

/**
 * Reads and checks a process memory image (doc/image-format.md) before anything is
 * restarted from it. The quick check (header, sizes, area table) costs microseconds
 * and runs on every restart; the full check also streams every stored page through
 * CRC32C and is what {@code stasis verify} does.
 */
public final class ImageFile {
    static final byte[] MAGIC = "STASISIM".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = ImageLayout.VERSION;
    static final int HEADER_SIZE = ImageLayout.HEADER_SIZE;
    static final int AREA_SIZE = ImageLayout.AREA_SIZE;
    static final int RUN_SIZE = ImageLayout.RUN_SIZE;
    // The table is read whole: bounded so a forged size cannot exhaust the heap.
    private static final long MAX_TABLE_BYTES = 256L << 20;

    /**
     * What an image holds.
     *
     * @param pid the process id it was taken of
     * @param arch the architecture
     * @param kernel the kernel release it was taken on
     * @param areas memory areas
     * @param threads threads captured
     * @param dataBytes bytes of page data stored
     * @param imageId the image's random id (0 in version 1 images)
     * @param parentId the parent image's id, 0 when the image is self-contained
     * @param parent the parent image as "CHECKPOINT-DIR-NAME/image-PID.img", "" when self-contained
     * @param compression how its page data is stored: "none" or "zstd" (version 3)
     * @param rawBytes the page data it holds uncompressed (dataBytes when not compressed)
     */
    public record Summary(int pid, String arch, String kernel, int areas, int threads, long dataBytes, long imageId,
                          long parentId, String parent, String compression, long rawBytes) {
    }

    // struct stasis_img_compress (in the header) and struct stasis_img_frame, field offsets
    private static final int COMPRESS_ALGO = 0;
    private static final int COMPRESS_N_FRAMES = 4;
    private static final int COMPRESS_FRAMES_OFFSET = 8;
    private static final int COMPRESS_RAW_BYTES = 16;
    private static final int COMPRESS_FRAMES_CRC = 24;
    private static final int FRAME_FILE_OFFSET = 8;
    private static final int FRAME_COMP_LEN = 20;
    private static final int FRAME_AREA = 24;
    private static final int FRAME_CRC = 28;

    /** A run whose pages are the parent image's (version 2): its file offset. */
    static final long RUN_PARENT = 1L << 63;

    private ImageFile() {
    }

    /**
     * @param image the image file
     * @param full also verify every area's checksum
     * @return what the image holds
     * @throws CheckpointInvalidException with one line that says what is wrong
     */
    public static Summary check(Path image, boolean full) throws CheckpointInvalidException {
        requireRegularFile(image);
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer header = read(channel, 0, HEADER_SIZE, image, "header");
            Summary summary = checkHeader(header, channel.size(), image);
            long tableOffset = header.getLong(OFF_TABLE_OFFSET);
            long tableSize = header.getLong(OFF_TABLE_SIZE);
            ByteBuffer table = read(channel, tableOffset, (int) tableSize, image, "area table");
            if (crc(table.duplicate()) != Integer.toUnsignedLong(header.getInt(OFF_TABLE_CRC))) {
                throw invalid(image, "its area table is corrupt (checksum mismatch)");
            }
            if (full && !summary.compression().equals("none")) {
                // compressed: what is stored is checked (each frame's CRC32C); the pages
                // themselves are checked by the restorer once decompressed (stasis verify runs it)
                checkFrames(channel, header, table, header.getInt(OFF_N_AREAS), image);
            } else if (full) {
                checkAreas(channel, table, header.getInt(OFF_N_AREAS), header.getInt(OFF_N_RUNS), image);
            }
            return summary;
        } catch (CheckpointInvalidException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read memory image " + image + ": " + e.getMessage(), e);
        }
    }

    // Checked before opening: opening a FIFO named as an image would block the reader.
    private static void requireRegularFile(Path image) throws CheckpointInvalidException {
        try {
            if (!Files.readAttributes(image, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isRegularFile()) {
                throw invalid(image, "it is not a regular file");
            }
        } catch (IOException e) {
            throw new CheckpointInvalidException("cannot read memory image " + image + ": " + e.getMessage(), e);
        }
    }

    private static Summary checkHeader(ByteBuffer header, long fileSize, Path image) throws CheckpointInvalidException {
        byte[] magic = new byte[8];
        header.get(0, magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw invalid(image, "it is not a Stasis memory image");
        }
        int version = header.getInt(OFF_VERSION);
        if (version < VERSION_MIN || version > VERSION) {
            throw invalid(image, "it has image format version " + version + " and this Stasis reads versions "
                    + VERSION_MIN + " to " + VERSION);
        }
        if (header.getInt(OFF_HEADER_SIZE) != HEADER_SIZE) {
            throw invalid(image, "its header size is wrong");
        }
        ByteBuffer zeroed = ByteBuffer.allocate(HEADER_SIZE).put(header.duplicate().position(0).limit(HEADER_SIZE));
        zeroed.putInt(OFF_HEADER_CRC, 0).flip();
        if (crc(zeroed) != Integer.toUnsignedLong(header.getInt(OFF_HEADER_CRC))) {
            throw invalid(image, "its header is corrupt (checksum mismatch)");
        }
        String arch = text(header, OFF_ARCH, ARCH_LEN);
        String here = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
        if (!arch.equals(here)) {
            throw invalid(image, "it was taken on " + arch + " and this machine is " + here);
        }
        if (header.getInt(OFF_PAGE_SIZE) != 4096) {
            throw invalid(image, "it uses pages of " + header.getInt(OFF_PAGE_SIZE) + " bytes; this machine uses 4096");
        }
        long expected = header.getLong(OFF_FILE_SIZE);
        if (fileSize < expected) {
            throw invalid(image, "it is truncated (" + fileSize + " of " + expected + " bytes)");
        }
        int areas = header.getInt(OFF_N_AREAS);
        long tableSize = header.getLong(OFF_TABLE_SIZE);
        long tableOffset = header.getLong(OFF_TABLE_OFFSET);
        if (areas < 0 || areas > MAX_AREAS || header.getInt(OFF_N_RUNS) < 0 || tableSize < 0 || tableSize > MAX_TABLE_BYTES
                || tableSize > fileSize - HEADER_SIZE
                || tableOffset < HEADER_SIZE || tableOffset + tableSize > expected
                || (long) areas * AREA_SIZE + (long) header.getInt(OFF_N_RUNS) * RUN_SIZE > tableSize) {
            throw invalid(image, "its area table is out of bounds");
        }
        int algo = header.getInt(OFF_PROC_COMPRESS + COMPRESS_ALGO);
        if (version < 3 && algo != 0) {
            throw invalid(image, "its header is corrupt (compression fields in a version " + version + " image)");
        }
        if (algo != 0 && algo != ZSTD) {
            throw invalid(image, "its page data is compressed with an unknown method (" + algo + ")");
        }
        long frames = Integer.toUnsignedLong(header.getInt(OFF_PROC_COMPRESS + COMPRESS_N_FRAMES));
        long framesOffset = header.getLong(OFF_PROC_COMPRESS + COMPRESS_FRAMES_OFFSET);
        if (algo != 0 && (framesOffset < tableOffset + tableSize || framesOffset > expected
                || frames * FRAME_SIZE > expected - framesOffset || frames * FRAME_SIZE > MAX_TABLE_BYTES)) {
            throw invalid(image, "its frame table is out of bounds");
        }
        long dataBytes = header.getLong(OFF_DATA_BYTES);
        return new Summary(header.getInt(OFF_PID), arch, text(header, OFF_KERNEL, KERNEL_LEN), areas,
                header.getInt(OFF_N_THREADS), dataBytes,
                version >= 2 ? header.getLong(OFF_PROC_IMAGE_ID) : 0,
                version >= 2 ? header.getLong(OFF_PROC_PARENT_ID) : 0,
                version >= 2 ? text(header, OFF_PROC_PARENT, PARENT_LEN) : "",
                algo == ZSTD ? "zstd" : "none", algo == ZSTD ? header.getLong(OFF_PROC_COMPRESS + COMPRESS_RAW_BYTES)
                        : dataBytes);
    }

    private static void checkFrames(FileChannel channel, ByteBuffer header, ByteBuffer table, int areas, Path image)
            throws IOException, CheckpointInvalidException {
        int frames = header.getInt(OFF_PROC_COMPRESS + COMPRESS_N_FRAMES);
        ByteBuffer frameTable = read(channel, header.getLong(OFF_PROC_COMPRESS + COMPRESS_FRAMES_OFFSET),
                frames * FRAME_SIZE, image, "frame table");
        if (crc(frameTable.duplicate()) != Integer.toUnsignedLong(header.getInt(OFF_PROC_COMPRESS + COMPRESS_FRAMES_CRC))) {
            throw invalid(image, "its frame table is corrupt (checksum mismatch)");
        }
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (int f = 0; f < frames; f++) {
            int base = f * FRAME_SIZE;
            long offset = frameTable.getLong(base + FRAME_FILE_OFFSET);
            long length = Integer.toUnsignedLong(frameTable.getInt(base + FRAME_COMP_LEN));
            int area = frameTable.getInt(base + FRAME_AREA);
            if (area < 0 || area >= areas || offset < 0 || offset + length > channel.size()) {
                throw invalid(image, "compressed frame " + f + " points outside the file or names no area");
            }
            CRC32C crc = new CRC32C();
            for (long done = 0; done < length; ) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), length - done));
                int n = channel.read(chunk, offset + done);
                if (n <= 0) {
                    throw invalid(image, "it is truncated inside compressed frame " + f);
                }
                chunk.flip();
                crc.update(chunk);
                done += n;
            }
            if (crc.getValue() != Integer.toUnsignedLong(frameTable.getInt(base + FRAME_CRC))) {
                throw invalid(image, String.format("the memory of area %d (at 0x%x) is corrupt (compressed frame %d: "
                        + "checksum mismatch)", area, table.getLong(area * AREA_SIZE + AREA_OFF_START), f));
            }
        }
    }

    private static void checkAreas(FileChannel channel, ByteBuffer table, int areas, int runs, Path image)
            throws IOException, CheckpointInvalidException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (int a = 0; a < areas; a++) {
            int base = a * AREA_SIZE;
            long expected = Integer.toUnsignedLong(table.getInt(base + AREA_OFF_CRC));
            int first = table.getInt(base + AREA_OFF_RUN_FIRST);
            int count = table.getInt(base + AREA_OFF_RUN_COUNT);
            if (count == 0) {
                continue;
            }
            if (first < 0 || count < 0 || (long) first + count > runs) {
                throw invalid(image, "area " + a + " names runs that do not exist");
            }
            CRC32C crc = new CRC32C();
            for (int r = first; r < first + count; r++) {
                int run = areas * AREA_SIZE + r * RUN_SIZE;
                long length = table.getLong(run + RUN_OFF_LEN);
                long offset = table.getLong(run + RUN_OFF_FILE_OFFSET);
                if (offset == RUN_PARENT) {
                    continue; // the parent's pages: checked with the parent
                }
                if (length < 0 || offset < 0 || offset + length > channel.size()) {
                    throw invalid(image, "area " + a + " points outside the file");
                }
                for (long done = 0; done < length; ) {
                    chunk.clear().limit((int) Math.min(chunk.capacity(), length - done));
                    int n = channel.read(chunk, offset + done);
                    if (n <= 0) {
                        throw invalid(image, "it is truncated inside area " + a);
                    }
                    chunk.flip();
                    crc.update(chunk);
                    done += n;
                }
            }
            if (crc.getValue() != expected) {
                throw invalid(image, String.format("the memory of area %d (at 0x%x) is corrupt (checksum mismatch)", a,
                        table.getLong(base + AREA_OFF_START)));
            }
        }
    }

    private static ByteBuffer read(FileChannel channel, long offset, int size, Path image, String what)
            throws IOException, CheckpointInvalidException {
        ByteBuffer buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, offset + buffer.position()) <= 0) {
                throw invalid(image, "it is truncated (no complete " + what + ")");
            }
        }
        return buffer.flip();
    }

    private static long crc(ByteBuffer bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }

    private static String text(ByteBuffer header, int offset, int length) {
        byte[] raw = new byte[length];
        header.get(offset, raw);
        int end = 0;
        while (end < length && raw[end] != 0) {
            end++;
        }
        return new String(raw, 0, end, StandardCharsets.US_ASCII);
    }

    private static CheckpointInvalidException invalid(Path image, String why) {
        return new CheckpointInvalidException("memory image " + image + " cannot be restarted: " + why);
    }
}
