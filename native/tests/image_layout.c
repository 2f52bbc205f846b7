/* Prints the memory image layout as the C compiler sees it, one "NAME VALUE" a line:
 * the reference that tests/check_image_layout.py holds the Java and Python readers to. */
#include "stasis/image.h"
#include <stdio.h>

#define AT(type, field) offsetof(struct type, field)
#define PROC_AT(field)  (AT(stasis_img_header, proc) + AT(stasis_img_proc, field))

struct layout_value {
    const char *name;
    size_t value;
};

static const struct layout_value g_layout[] = {
        {"VERSION", STASIS_IMG_VERSION},
        {"VERSION_MIN", STASIS_IMG_VERSION_MIN},
        {"VERSION_PLAIN", STASIS_IMG_VERSION_PLAIN},
        {"ZSTD", STASIS_IMG_ZSTD},
        {"FRAME_RAW", STASIS_IMG_FRAME_RAW},
        {"FRAME_SIZE", sizeof(struct stasis_img_frame)},
        {"OFF_PROC_COMPRESS", PROC_AT(compress)},
        {"OFF_PROC_IMAGE_ID", PROC_AT(image_id)},
        {"OFF_PROC_PARENT_ID", PROC_AT(parent_id)},
        {"OFF_PROC_PARENT", PROC_AT(parent)},
        {"PARENT_LEN", STASIS_IMG_PARENT_LEN},
        {"MAX_AREAS", STASIS_IMG_MAX_AREAS},
        {"MAX_THREADS", STASIS_IMG_MAX_THREADS},
        {"HEADER_SIZE", sizeof(struct stasis_img_header)},
        {"AREA_SIZE", sizeof(struct stasis_img_area)},
        {"RUN_SIZE", sizeof(struct stasis_img_run)},
        {"OFF_VERSION", AT(stasis_img_header, version)},
        {"OFF_HEADER_SIZE", AT(stasis_img_header, header_size)},
        {"OFF_ARCH", AT(stasis_img_header, arch)},
        {"ARCH_LEN", sizeof(((struct stasis_img_header *)0)->arch)},
        {"OFF_KERNEL", AT(stasis_img_header, kernel)},
        {"KERNEL_LEN", sizeof(((struct stasis_img_header *)0)->kernel)},
        {"OFF_PAGE_SIZE", AT(stasis_img_header, page_size)},
        {"OFF_N_AREAS", AT(stasis_img_header, n_areas)},
        {"OFF_N_RUNS", AT(stasis_img_header, n_runs)},
        {"OFF_N_THREADS", AT(stasis_img_header, n_threads)},
        {"OFF_DATA_OFFSET", AT(stasis_img_header, data_offset)},
        {"OFF_DATA_BYTES", AT(stasis_img_header, data_bytes)},
        {"OFF_TABLE_OFFSET", AT(stasis_img_header, table_offset)},
        {"OFF_TABLE_SIZE", AT(stasis_img_header, table_size)},
        {"OFF_FILE_SIZE", AT(stasis_img_header, file_size)},
        {"OFF_PID", AT(stasis_img_header, pid)},
        {"OFF_PPID", AT(stasis_img_header, ppid)},
        {"OFF_TIDS", AT(stasis_img_header, tids)},
        {"OFF_PROC", AT(stasis_img_header, proc)},
        {"OFF_PROC_ENTRY", PROC_AT(entry)},
        {"OFF_PROC_KFLAGS", PROC_AT(kflags)},
        {"OFF_PROC_CWD", PROC_AT(cwd)},
        {"CWD_LEN", sizeof(((struct stasis_img_proc *)0)->cwd)},
        {"OFF_TABLE_CRC", AT(stasis_img_header, table_crc32c)},
        {"OFF_HEADER_CRC", AT(stasis_img_header, header_crc32c)},
        {"AREA_OFF_START", AT(stasis_img_area, start)},
        {"AREA_OFF_END", AT(stasis_img_area, end)},
        {"AREA_OFF_PGOFF", AT(stasis_img_area, pgoff)},
        {"AREA_OFF_DATA_BYTES", AT(stasis_img_area, data_bytes)},
        {"AREA_OFF_PROT", AT(stasis_img_area, prot)},
        {"AREA_OFF_FLAGS", AT(stasis_img_area, flags)},
        {"AREA_OFF_KIND", AT(stasis_img_area, kind)},
        {"AREA_OFF_CRC", AT(stasis_img_area, crc32c)},
        {"AREA_OFF_RUN_FIRST", AT(stasis_img_area, run_first)},
        {"AREA_OFF_RUN_COUNT", AT(stasis_img_area, run_count)},
        {"AREA_OFF_NAME_OFF", AT(stasis_img_area, name_off)},
        {"AREA_OFF_NAME_LEN", AT(stasis_img_area, name_len)},
        {"RUN_OFF_ADDR", AT(stasis_img_run, addr)},
        {"RUN_OFF_LEN", AT(stasis_img_run, len)},
        {"RUN_OFF_FILE_OFFSET", AT(stasis_img_run, file_offset)},
        {"PROC_CWD_DELETED", STASIS_PROC_CWD_DELETED},
};

int main(void)
{
    for (size_t i = 0; i < sizeof g_layout / sizeof g_layout[0]; i++)
        printf("%s %zu\n", g_layout[i].name, g_layout[i].value);
    return 0;
}
