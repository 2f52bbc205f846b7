package org.stasis.framework.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SharedMemoryTest {
    private static final List<String> MAPS = List.of(
            "55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0                          [heap]",
            "7f1c2a000000-7f1c2a001000 rw-s 00000000 00:01 4242                       /dev/zero (deleted)",
            "7f1c2a100000-7f1c2a101000 rw-s 00000000 00:1a 77                         /dev/shm/sem.mp-x1 (deleted)",
            "7f1c2a200000-7f1c2a300000 rw-s 00000000 08:01 1311                       /home/u/data.bin",
            "7f1c2a400000-7f1c2a401000 rw-s 00000000 00:01 99                         /memfd:arena (deleted)",
            "7f1c2a600000-7f1c2aa01000 rw-s 00000000 00:1a 35                         /dev/shm/vader_segment.h.0.1",
            "7f1c2a500000-7f1c2a501000 r--p 00000000 08:01 1400                       /usr/lib/libc.so.6");

    @Test
    void sharedAnonymousDeletedMemfdAndPosixShmAreasAreKeyedByDeviceAndInode() {
        assertEquals(Map.of("7f1c2a000000", "00:01-4242", "7f1c2a100000", "00:1a-77", "7f1c2a400000", "00:01-99",
                "7f1c2a600000", "00:1a-35"), SharedMemory.parse(MAPS));
    }

    @Test
    void onlyObjectsWithMoreThanOneViewNeedRebuilding() {
        Map<Integer, Map<String, String>> kept = SharedMemory.sharedBetweenAreas(Map.of(
                2, Map.of("7f00", "00:01-4242", "7f10", "00:01-5"),
                3, Map.of("7f00", "00:01-4242")));

        assertEquals(Map.of(2, Map.of("7f00", "00:01-4242"), 3, Map.of("7f00", "00:01-4242")), kept);
    }
}
