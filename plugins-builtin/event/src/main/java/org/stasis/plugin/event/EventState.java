package org.stasis.plugin.event;

import java.io.IOException;

/**
 * What the plugin saves of one event object to create it again: the kernel's state of
 * the object, not of any one descriptor (several may share it).
 */
sealed interface EventState permits EventfdState, TimerState, SignalState, InotifyState, EpollState {
    /** @return the kind of object */
    EventKind kind();

    /** @return the state as one line of text, without the kind */
    String encode();

    /** @return the state and its kind as one line of text, for the manifest */
    default String encodeWithKind() {
        String body = encode();
        return body.isEmpty() ? kind().name() : kind().name() + " " + body;
    }

    /** Reads back {@link #encodeWithKind()}. */
    static EventState decode(String text) throws IOException {
        int space = text.indexOf(' ');
        String kind = space < 0 ? text : text.substring(0, space);
        String body = space < 0 ? "" : text.substring(space + 1);
        try {
            return switch (EventKind.valueOf(kind)) {
                case EVENTFD -> EventfdState.decode(body);
                case TIMERFD -> TimerState.decode(body);
                case SIGNALFD -> SignalState.decode(body);
                case INOTIFY -> InotifyState.decode(body);
                case EPOLL -> EpollState.decode(body);
            };
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new IOException("unreadable event object record: " + text, e);
        }
    }
}
