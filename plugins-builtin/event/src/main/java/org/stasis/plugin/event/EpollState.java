package org.stasis.plugin.event;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An epoll instance: its registrations. A registration is keyed by the descriptor
 * number of the process that made it, so each one records in which process to make
 * it again.
 *
 * @param interests the registrations to make again
 */
record EpollState(List<Interest> interests) implements EventState {
    /**
     * A registration to make again at restart, in process {@code pid}.
     *
     * @param pid the process (inside the computation) whose fd {@code fd} is the watched file
     * @param fd the watched descriptor in that process
     * @param events the event mask, including EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP
     * @param data the user data epoll_wait hands back
     */
    record Interest(int pid, int fd, int events, long data) {
        String encode() {
            return pid + "," + fd + "," + Integer.toHexString(events) + "," + Long.toHexString(data);
        }

        static Interest decode(String text) {
            String[] parts = text.split(",");
            return new Interest(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]),
                    Integer.parseUnsignedInt(parts[2], 16), FdInfo.hex(parts[3]));
        }
    }

    /**
     * A registration as the kernel shows it.
     *
     * @param fd the descriptor number it was registered with
     * @param events the event mask
     * @param data the user data
     * @param inode the inode of the watched file
     * @param occurrence how many earlier registrations have the same number (a file
     *        closed and another registered under its number), as kcmp's KCMP_EPOLL_TFD counts
     */
    record Item(int fd, int events, long data, long inode, int occurrence) {
    }

    EpollState {
        interests = List.copyOf(interests);
    }

    /** @return the registrations shown in an epoll instance's fdinfo, in the kernel's order */
    static List<Item> items(List<String> fdinfo) throws IOException {
        List<Item> items = new ArrayList<>();
        Map<Integer, Integer> seen = new HashMap<>();
        for (String line : fdinfo) {
            if (!line.startsWith("tfd:")) {
                continue;
            }
            Map<String, String> pairs = FdInfo.pairs(line);
            int fd = Integer.parseInt(FdInfo.pair(pairs, "tfd", line));
            int occurrence = seen.merge(fd, 1, Integer::sum) - 1;
            items.add(new Item(fd, Integer.parseUnsignedInt(FdInfo.pair(pairs, "events", line), 16),
                    FdInfo.hex(FdInfo.pair(pairs, "data", line)), FdInfo.hex(FdInfo.pair(pairs, "ino", line)),
                    occurrence));
        }
        return items;
    }

    @Override
    public EventKind kind() {
        return EventKind.EPOLL;
    }

    @Override
    public String encode() {
        StringBuilder text = new StringBuilder();
        for (Interest interest : interests) {
            text.append(text.length() == 0 ? "" : " ").append(interest.encode());
        }
        return text.toString();
    }

    static EpollState decode(String text) {
        List<Interest> interests = new ArrayList<>();
        for (String word : text.trim().split(" ")) {
            if (!word.isEmpty()) {
                interests.add(Interest.decode(word));
            }
        }
        return new EpollState(interests);
    }
}
