package org.stasis.scenarios;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Damages a memory image on disk the way a bad disk would, for tests of verification. */
public final class ImageDamage {
    private ImageDamage() {
    }

    /** Flips 4 bytes in the middle of the image's page data (data_offset at 120, data_bytes at 128). */
    public static void flipMiddleOfPageData(Path image) throws Exception {
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(136).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            long at = header.getLong(120) + header.getLong(128) / 2;
            ByteBuffer bytes = ByteBuffer.allocate(4);
            channel.read(bytes, at);
            for (int i = 0; i < 4; i++) {
                bytes.put(i, (byte) ~bytes.get(i));
            }
            channel.write(bytes.flip(), at);
        }
    }

    /**
     * Flips 4 bytes in the middle of the compressed bytes of the middle frame of a
     * compressed image (doc/image-format.md: struct stasis_img_compress at 4704, frames of
     * 32 bytes: file_offset at 8, comp_len at 20); returns the frame's area.
     */
    static int flipMiddleOfAFrame(Path image) throws Exception {
        try (FileChannel channel = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer compress = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(compress, 4704);
            int frames = compress.getInt(4);
            if (compress.getInt(0) == 0 || frames == 0) {
                throw new AssertionError(image + " is not compressed");
            }
            ByteBuffer frame = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(frame, compress.getLong(8) + 32L * (frames / 2));
            long at = frame.getLong(8) + Integer.toUnsignedLong(frame.getInt(20)) / 2;
            ByteBuffer bytes = ByteBuffer.allocate(4);
            channel.read(bytes, at);
            for (int i = 0; i < 4; i++) {
                bytes.put(i, (byte) ~bytes.get(i));
            }
            channel.write(bytes.flip(), at);
            return frame.getInt(24);
        }
    }
}
