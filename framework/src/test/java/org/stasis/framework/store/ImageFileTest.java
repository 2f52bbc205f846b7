package org.stasis.framework.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image reader against images built to doc/image-format.md, intact and damaged. */
class ImageFileTest {
    private static final int DATA_OFFSET = 12288;
    private static final int PAGES = 2;
    private static final int TABLE_OFFSET = DATA_OFFSET + PAGES * 4096;
    private static final int TABLE_SIZE = ImageFile.AREA_SIZE + ImageFile.RUN_SIZE + 8;

    @TempDir
    Path temp;

    /** One anonymous area of two stored pages, checksums filled in. */
    static byte[] validImage() {
        ByteBuffer b = ByteBuffer.allocate(TABLE_OFFSET + TABLE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, ImageFile.MAGIC).putInt(8, 1).putInt(12, ImageFile.HEADER_SIZE);
        b.put(16, "x86_64".getBytes(StandardCharsets.US_ASCII)).put(32, "6.18.0".getBytes(StandardCharsets.US_ASCII));
        b.putInt(104, 4096).putInt(108, 1).putInt(112, 1).putInt(116, 2);
        b.putLong(120, DATA_OFFSET).putLong(128, PAGES * 4096L).putLong(136, TABLE_OFFSET).putLong(144, TABLE_SIZE);
        b.putLong(152, TABLE_OFFSET + TABLE_SIZE).putInt(160, 2).putInt(164, 1);
        Random random = new Random(42);
        byte[] data = new byte[PAGES * 4096];
        random.nextBytes(data);
        b.put(DATA_OFFSET, data);
        int area = TABLE_OFFSET;
        b.putLong(area, 0x7f0000000000L).putLong(area + 8, 0x7f0000002000L).putLong(area + 24, data.length);
        b.putInt(area + 32, 3).putInt(area + 40, 1).putInt(area + 44, (int) crc(data)).putInt(area + 48, 0)
                .putInt(area + 52, 1);
        int run = TABLE_OFFSET + ImageFile.AREA_SIZE;
        b.putLong(run, 0x7f0000000000L).putLong(run + 8, data.length).putLong(run + 16, DATA_OFFSET);
        b.putInt(8872, (int) crc(Arrays.copyOfRange(b.array(), TABLE_OFFSET, TABLE_OFFSET + TABLE_SIZE)));
        b.putInt(8876, (int) crc(Arrays.copyOfRange(b.array(), 0, ImageFile.HEADER_SIZE)));
        return b.array();
    }

    private static long crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return crc.getValue();
    }

    private Path write(byte[] image) throws Exception {
        return Files.write(temp.resolve("image-2.img"), image);
    }

    private String problem(byte[] image, boolean full) throws Exception {
        Path file = write(image);
        return assertThrows(CheckpointInvalidException.class, () -> ImageFile.check(file, full)).getMessage();
    }

    @Test
    void anIntactImageIsAcceptedAndSummarized() throws Exception {
        ImageFile.Summary summary = ImageFile.check(write(validImage()), true);

        assertEquals(new ImageFile.Summary(2, "x86_64", "6.18.0", 1, 2, 8192, 0, 0, "", "none", 8192), summary);
    }

    @Test
    void damagedPageDataIsFoundByTheFullCheckOnly() throws Exception {
        byte[] image = validImage();
        image[DATA_OFFSET + 5000] ^= 1;

        ImageFile.check(write(image), false);
        assertTrue(problem(image, true).contains("area 0 (at 0x7f0000000000) is corrupt"));
    }

    @Test
    void eachKindOfDamageGetsItsOwnMessage() throws Exception {
        byte[] foreign = validImage();
        foreign[0] = 'X';
        assertTrue(problem(foreign, false).contains("not a Stasis memory image"));

        byte[] truncated = Arrays.copyOf(validImage(), TABLE_OFFSET + 10);
        assertTrue(problem(truncated, false).contains("truncated"));

        byte[] tinyFile = Arrays.copyOf(validImage(), 100);
        assertTrue(problem(tinyFile, false).contains("truncated"));

        byte[] header = validImage();
        header[40] ^= 0x20;
        assertTrue(problem(header, false).contains("header is corrupt"));

        byte[] table = validImage();
        table[TABLE_OFFSET + 3] ^= 1;
        assertTrue(problem(table, false).contains("area table is corrupt"));
    }

    @Test
    void anotherFormatVersionOrArchitectureIsRefusedByName() throws Exception {
        byte[] version = validImage();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 4);
        assertTrue(problem(version, false).contains("format version 4"));

        byte[] arch = validImage();
        ByteBuffer b = ByteBuffer.wrap(arch).order(ByteOrder.LITTLE_ENDIAN);
        b.put(16, "aarch64\0".getBytes(StandardCharsets.US_ASCII));
        b.putInt(8876, 0);
        b.putInt(8876, (int) crc(Arrays.copyOfRange(arch, 0, ImageFile.HEADER_SIZE)));
        assertTrue(problem(arch, false).contains("taken on aarch64"));
    }

    /**
     * The valid image as a compressed one (version 3): its page data stands for one frame of
     * PAGES pages (Java checks what is stored, not what it decompresses to), the frame table
     * after the tables.
     */
    static byte[] compressedImage(int version) {
        int framesOffset = TABLE_OFFSET + TABLE_SIZE;
        byte[] image = Arrays.copyOf(validImage(), framesOffset + ImageLayout.FRAME_SIZE);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int compress = ImageLayout.OFF_PROC_COMPRESS;
        byte[] stored = Arrays.copyOfRange(image, DATA_OFFSET, DATA_OFFSET + 5000);
        b.putLong(framesOffset, DATA_OFFSET).putLong(framesOffset + 8, DATA_OFFSET).putInt(framesOffset + 16, PAGES * 4096)
                .putInt(framesOffset + 20, stored.length).putInt(framesOffset + 24, 0)
                .putInt(framesOffset + 28, (int) crc(stored));
        b.putInt(8, version).putLong(152, image.length);
        b.putInt(compress, ImageLayout.ZSTD).putInt(compress + 4, 1).putLong(compress + 8, framesOffset)
                .putLong(compress + 16, PAGES * 4096L)
                .putInt(compress + 24, (int) crc(Arrays.copyOfRange(image, framesOffset, image.length)));
        b.putInt(8876, 0);
        b.putInt(8876, (int) crc(Arrays.copyOfRange(image, 0, ImageFile.HEADER_SIZE)));
        return image;
    }

    @Test
    void aCompressedImageIsSummarizedAndItsFramesChecked() throws Exception {
        ImageFile.Summary summary = ImageFile.check(write(compressedImage(3)), true);
        assertEquals("zstd", summary.compression());
        assertEquals(PAGES * 4096L, summary.rawBytes());

        byte[] damaged = compressedImage(3);
        damaged[DATA_OFFSET + 4000] ^= 1;
        ImageFile.check(write(damaged), false);
        assertTrue(problem(damaged, true).contains("area 0 (at 0x7f0000000000) is corrupt (compressed frame 0"));
    }

    @Test
    void compressionFieldsInAnOlderVersionAreRefused() throws Exception {
        assertTrue(problem(compressedImage(2), false).contains("compression fields in a version 2 image"));
    }

    /** The area limit is the C header's STASIS_IMG_MAX_AREAS (8192), not a larger one of Java's own. */
    @Test
    void moreAreasThanTheFormatHoldsAreRefused() throws Exception {
        int areas = 8193;
        int tableSize = areas * ImageFile.AREA_SIZE + ImageFile.RUN_SIZE;
        byte[] image = Arrays.copyOf(validImage(), TABLE_OFFSET + tableSize);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(108, areas).putLong(144, tableSize).putLong(152, image.length);
        b.putInt(8872, (int) crc(Arrays.copyOfRange(image, TABLE_OFFSET, TABLE_OFFSET + tableSize)));
        b.putInt(8876, 0);
        b.putInt(8876, (int) crc(Arrays.copyOfRange(image, 0, ImageFile.HEADER_SIZE)));

        assertTrue(problem(image, false).contains("area table is out of bounds"));
    }

    /** Random damage anywhere a checksum covers is always reported as such, never as a crash. */
    @Test
    void fuzzedImagesAreAlwaysRefusedCleanly() throws Exception {
        Random random = new Random(7);
        for (int i = 0; i < 400; i++) {
            byte[] image = validImage();
            int offset;
            do {
                offset = random.nextInt(image.length);
            } while (offset >= ImageFile.HEADER_SIZE && offset < DATA_OFFSET); // padding no checksum covers
            image[offset] ^= (byte) (1 + random.nextInt(255));
            if (random.nextInt(4) == 0) {
                image = Arrays.copyOf(image, random.nextInt(image.length));
            }
            Path file = write(image);
            try {
                ImageFile.check(file, true);
                fail("damage at offset " + offset + " went unnoticed");
            } catch (CheckpointInvalidException expected) {
                assertTrue(expected.getMessage().startsWith("memory image "), expected.getMessage());
                assertTrue(!expected.getMessage().contains("\n"));
            }
        }
    }
}
