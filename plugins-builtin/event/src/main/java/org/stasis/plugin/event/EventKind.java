package org.stasis.plugin.event;

import java.util.Optional;

/**
 * The event objects the plugin restores, by what /proc/PID/fd shows for them. The
 * kernel names epoll, eventfd, timerfd and signalfd in brackets but inotify without.
 */
enum EventKind {
    EPOLL("anon_inode:[eventpoll]"),
    EVENTFD("anon_inode:[eventfd]"),
    TIMERFD("anon_inode:[timerfd]"),
    SIGNALFD("anon_inode:[signalfd]"),
    INOTIFY("anon_inode:inotify");

    private final String target;

    EventKind(String target) {
        this.target = target;
    }

    /** @return the kind of an fd target, if it is one the plugin restores */
    static Optional<EventKind> of(String target) {
        for (EventKind kind : values()) {
            if (kind.target.equals(target)) {
                return Optional.of(kind);
            }
        }
        return Optional.empty();
    }

    /** @return the target as /proc shows it */
    String target() {
        return target;
    }
}
