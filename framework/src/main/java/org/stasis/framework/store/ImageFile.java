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

/**
 * Reads and checks a process memory image (doc/image-format.md) before anything is
 * restarted from it. The quick check (header, sizes, area table) costs microseconds
 * and runs on every restart; the full check also streams every stored page through
 * CRC32C and is what {@code stasis verify} does.
 */
public final class ImageFile {
    static final byte[] MAGIC = "STASISIM".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_SIZE = 8880;
    static final int AREA_SIZE = 64;
    static final int RUN_SIZE = 24;
    private static final int HEADER_CRC_OFFSET = 8876;
    private static final int TABLE_CRC_OFFSET = 8872;
    private static final int MAX_AREAS = 1 << 20;
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
     */
    public record Summary(int pid, String arch, String kernel, int areas, int threads, long dataBytes) {
    }

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
            long tableOffset = header.getLong(136);
            long tableSize = header.getLong(144);
            ByteBuffer table = read(channel, tableOffset, (int) tableSize, image, "area table");
            if (crc(table.duplicate()) != Integer.toUnsignedLong(header.getInt(TABLE_CRC_OFFSET))) {
                throw invalid(image, "its area table is corrupt (checksum mismatch)");
            }
            if (full) {
                checkAreas(channel, table, header.getInt(108), header.getInt(112), image);
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
        int version = header.getInt(8);
        if (version != VERSION) {
            throw invalid(image, "it has image format version " + version + " and this Stasis reads version " + VERSION);
        }
        if (header.getInt(12) != HEADER_SIZE) {
            throw invalid(image, "its header size is wrong");
        }
        ByteBuffer zeroed = ByteBuffer.allocate(HEADER_SIZE).put(header.duplicate().position(0).limit(HEADER_SIZE));
        zeroed.putInt(HEADER_CRC_OFFSET, 0).flip();
        if (crc(zeroed) != Integer.toUnsignedLong(header.getInt(HEADER_CRC_OFFSET))) {
            throw invalid(image, "its header is corrupt (checksum mismatch)");
        }
        String arch = text(header, 16, 16);
        String here = System.getProperty("os.arch").equals("amd64") ? "x86_64" : System.getProperty("os.arch");
        if (!arch.equals(here)) {
            throw invalid(image, "it was taken on " + arch + " and this machine is " + here);
        }
        if (header.getInt(104) != 4096) {
            throw invalid(image, "it uses pages of " + header.getInt(104) + " bytes; this machine uses 4096");
        }
        long expected = header.getLong(152);
        if (fileSize < expected) {
            throw invalid(image, "it is truncated (" + fileSize + " of " + expected + " bytes)");
        }
        int areas = header.getInt(108);
        long tableSize = header.getLong(144);
        long tableOffset = header.getLong(136);
        if (areas < 0 || areas > MAX_AREAS || header.getInt(112) < 0 || tableSize < 0 || tableSize > MAX_TABLE_BYTES
                || tableSize > fileSize - HEADER_SIZE
                || tableOffset < HEADER_SIZE || tableOffset + tableSize > expected
                || (long) areas * AREA_SIZE + (long) header.getInt(112) * RUN_SIZE > tableSize) {
            throw invalid(image, "its area table is out of bounds");
        }
        return new Summary(header.getInt(160), arch, text(header, 32, 72), areas, header.getInt(116),
                header.getLong(128));
    }

    private static void checkAreas(FileChannel channel, ByteBuffer table, int areas, int runs, Path image)
            throws IOException, CheckpointInvalidException {
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        for (int a = 0; a < areas; a++) {
            int base = a * AREA_SIZE;
            long expected = Integer.toUnsignedLong(table.getInt(base + 44));
            int first = table.getInt(base + 48);
            int count = table.getInt(base + 52);
            if (count == 0) {
                continue;
            }
            if (first < 0 || count < 0 || (long) first + count > runs) {
                throw invalid(image, "area " + a + " names runs that do not exist");
            }
            CRC32C crc = new CRC32C();
            for (int r = first; r < first + count; r++) {
                int run = areas * AREA_SIZE + r * RUN_SIZE;
                long length = table.getLong(run + 8);
                long offset = table.getLong(run + 16);
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
                        table.getLong(base)));
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
