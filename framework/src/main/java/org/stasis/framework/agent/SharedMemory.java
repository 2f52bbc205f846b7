package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Memory that processes share without a file to reopen: MAP_SHARED|MAP_ANONYMOUS
 * areas, deleted files, memfds, SysV segments (Python's multiprocessing locks live
 * in one) and POSIX shared memory objects in /dev/shm (Open MPI's shared memory
 * transport), whose contents are the processes' state rather than a file's. Each process's image holds its view; the restorer must back all views of
 * one object with one memory object again, or the processes stop seeing each other's
 * writes. The kernel names the object by device and inode in /proc/PID/maps.
 */
final class SharedMemory {
    private SharedMemory() {
    }

    /**
     * @param hostPid a suspended process, as the coordinator sees it
     * @return its shared anonymous areas: start address (hex, as in maps) to object key
     *         ({@code <dev>-<inode>})
     */
    static Map<String, String> of(int hostPid) {
        try {
            return parse(Files.readAllLines(Path.of("/proc", Integer.toString(hostPid), "maps")));
        } catch (IOException e) {
            return Map.of();   // it exited: the suspend notices
        }
    }

    /**
     * @param maps the lines of /proc/PID/maps
     * @return shared anonymous areas: start address to object key
     */
    static Map<String, String> parse(List<String> maps) {
        Map<String, String> areas = new TreeMap<>();
        for (String line : maps) {
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 5 || f[1].length() < 4 || f[1].charAt(3) != 's') {
                continue;
            }
            String name = f.length == 6 ? f[5] : "";
            boolean reopenable = !f[4].equals("0") && name.startsWith("/") && !name.endsWith(" (deleted)")
                    && !name.startsWith("/memfd:") && !name.startsWith("/SYSV") && !name.startsWith("/dev/shm/");
            if (!reopenable) {   // the same test as the agent's (image.c): a file the restorer can reopen is not ours
                areas.put(f[0].substring(0, f[0].indexOf('-')), f[3] + "-" + f[4]);
            }
        }
        return areas;
    }

    /**
     * @param perProcess every process's shared areas
     * @return the same, keeping only objects that more than one area maps (the ones
     *         whose sharing a restart must rebuild)
     */
    static Map<Integer, Map<String, String>> sharedBetweenAreas(Map<Integer, Map<String, String>> perProcess) {
        Map<String, Integer> views = new HashMap<>();
        perProcess.values().forEach(areas -> areas.values().forEach(key -> views.merge(key, 1, Integer::sum)));
        Map<Integer, Map<String, String>> kept = new TreeMap<>();
        perProcess.forEach((pid, areas) -> {
            Map<String, String> mine = new TreeMap<>();
            areas.forEach((start, key) -> {
                if (views.get(key) > 1) {
                    mine.put(start, key);
                }
            });
            kept.put(pid, mine);
        });
        return kept;
    }
}
