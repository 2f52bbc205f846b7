package org.stasis.plugin.event;

import java.io.IOException;
import java.util.List;

/**
 * An eventfd: its counter and whether reads take one at a time (EFD_SEMAPHORE).
 *
 * @param count the counter, an unsigned 64-bit number
 * @param semaphore whether it was created with EFD_SEMAPHORE
 */
record EventfdState(long count, boolean semaphore) implements EventState {
    /**
     * @param fdinfo the object's fdinfo lines; older kernels do not show the
     *        semaphore mode, which then counts as off
     */
    static EventfdState parse(List<String> fdinfo) throws IOException {
        long count = FdInfo.hex(FdInfo.required(fdinfo, "eventfd-count"));
        boolean semaphore = FdInfo.value(fdinfo, "eventfd-semaphore").map("1"::equals).orElse(false);
        return new EventfdState(count, semaphore);
    }

    @Override
    public EventKind kind() {
        return EventKind.EVENTFD;
    }

    @Override
    public String encode() {
        return Long.toUnsignedString(count) + " " + semaphore;
    }

    static EventfdState decode(String text) {
        String[] parts = text.split(" ");
        return new EventfdState(Long.parseUnsignedLong(parts[0]), Boolean.parseBoolean(parts[1]));
    }
}
