package org.stasis.plugin.event;

import java.io.IOException;
import java.util.List;

/**
 * A signalfd: only the set of signals it reads. The signals themselves stay pending
 * in the process, which the core restores, and the process blocks them itself.
 *
 * @param mask bit N-1 set for signal N
 */
record SignalState(long mask) implements EventState {
    static SignalState parse(List<String> fdinfo) throws IOException {
        return new SignalState(FdInfo.hex(FdInfo.required(fdinfo, "sigmask")));
    }

    @Override
    public EventKind kind() {
        return EventKind.SIGNALFD;
    }

    @Override
    public String encode() {
        return Long.toHexString(mask);
    }

    static SignalState decode(String text) {
        return new SignalState(Long.parseUnsignedLong(text.trim(), 16));
    }
}
