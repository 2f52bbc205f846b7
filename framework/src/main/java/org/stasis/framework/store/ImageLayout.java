package org.stasis.framework.store;

/**
 * The memory image layout this reader relies on (doc/image-format.md), named as
 * native/tests/image_layout.c prints it from the C header {@code stasis/image.h}.
 * The native build ({@code make}, native/tests/check_image_layout.py) fails when a value
 * here disagrees with the C compiler's, so keep one {@code static final int NAME = value;}
 * per line.
 */
final class ImageLayout {
    static final int VERSION = 3;
    static final int VERSION_MIN = 1;
    static final int VERSION_PLAIN = 2;
    static final int ZSTD = 1;
    static final int FRAME_RAW = 4194304;
    static final int FRAME_SIZE = 32;
    static final int OFF_PROC_COMPRESS = 4704;
    static final int OFF_PROC_IMAGE_ID = 4432;
    static final int OFF_PROC_PARENT_ID = 4440;
    static final int OFF_PROC_PARENT = 4448;
    static final int PARENT_LEN = 256;
    static final int MAX_AREAS = 8192;
    static final int HEADER_SIZE = 8880;
    static final int AREA_SIZE = 64;
    static final int RUN_SIZE = 24;
    static final int OFF_VERSION = 8;
    static final int OFF_HEADER_SIZE = 12;
    static final int OFF_ARCH = 16;
    static final int ARCH_LEN = 16;
    static final int OFF_KERNEL = 32;
    static final int KERNEL_LEN = 72;
    static final int OFF_PAGE_SIZE = 104;
    static final int OFF_N_AREAS = 108;
    static final int OFF_N_RUNS = 112;
    static final int OFF_N_THREADS = 116;
    static final int OFF_DATA_BYTES = 128;
    static final int OFF_TABLE_OFFSET = 136;
    static final int OFF_TABLE_SIZE = 144;
    static final int OFF_FILE_SIZE = 152;
    static final int OFF_PID = 160;
    static final int OFF_TABLE_CRC = 8872;
    static final int OFF_HEADER_CRC = 8876;
    static final int AREA_OFF_START = 0;
    static final int AREA_OFF_CRC = 44;
    static final int AREA_OFF_RUN_FIRST = 48;
    static final int AREA_OFF_RUN_COUNT = 52;
    static final int RUN_OFF_LEN = 8;
    static final int RUN_OFF_FILE_OFFSET = 16;

    private ImageLayout() {
    }
}
