package org.stasis.plugin.event;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * A timerfd as the kernel shows it at checkpoint time, with the wall-clock moment it
 * was read, so that at restart the timer can be set as if it had kept running: a
 * deadline that passed while the program was checkpointed has fired when the program
 * comes back.
 *
 * @param clock the clock id (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, ...)
 * @param flags the last timerfd_settime flags (TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET)
 * @param ticks expirations the program has not read yet
 * @param remainingNanos time to the next expiration, 0 if disarmed or expired
 * @param intervalNanos the period, 0 for a one-shot timer
 * @param readAtNanos when the kernel was asked, in nanoseconds since the epoch
 */
record TimerState(int clock, int flags, long ticks, long remainingNanos, long intervalNanos, long readAtNanos)
        implements EventState {
    static final int CLOCK_REALTIME = 0;
    static final int CLOCK_REALTIME_ALARM = 8;
    private static final long NANOS = 1_000_000_000L;

    /**
     * How to set the new timer.
     *
     * @param flags the timerfd_settime flags
     * @param valueNanos the first expiration: relative, or absolute on the realtime
     *        clock if flags say TFD_TIMER_ABSTIME; 0 leaves the timer disarmed
     * @param intervalNanos the period
     * @param ticks expirations to make readable at once (0 for none)
     */
    record Setting(int flags, long valueNanos, long intervalNanos, long ticks) {
    }

    /**
     * @param fdinfo the timer's fdinfo lines
     * @param readAtNanos the wall-clock time of the read, nanoseconds since the epoch
     */
    static TimerState parse(List<String> fdinfo, long readAtNanos) throws IOException {
        return new TimerState(Integer.parseInt(FdInfo.required(fdinfo, "clockid")),
                Integer.parseInt(FdInfo.required(fdinfo, "settime flags"), 8),
                Long.parseUnsignedLong(FdInfo.required(fdinfo, "ticks")),
                nanos(FdInfo.required(fdinfo, "it_value")),
                nanos(FdInfo.required(fdinfo, "it_interval")),
                readAtNanos);
    }

    // "(seconds, nanoseconds)"
    private static long nanos(String pair) throws IOException {
        String[] parts = pair.replaceAll("[()\\s]", "").split(",");
        if (parts.length != 2) {
            throw new IOException("unexpected timer value in fdinfo: " + pair);
        }
        return Long.parseLong(parts[0]) * NANOS + Long.parseLong(parts[1]);
    }

    /**
     * The setting that continues this timer at wall-clock time {@code nowNanos}. Missed
     * expirations are counted into {@link Setting#ticks()} the way the kernel counts
     * overruns, and a periodic timer keeps its phase.
     */
    Setting restartSetting(long nowNanos) {
        long remaining = remainingNanos;
        if (remaining == 0) {
            if (intervalNanos == 0 || ticks == 0) {
                // Disarmed (the kernel keeps the interval of a disarmed timer), or a one-shot that fired.
                return new Setting(0, 0, intervalNanos, ticks);
            }
            // A periodic timer that fired and was not read: the kernel stopped it until the read.
            // Its next expiration is taken to be one period after the checkpoint.
            remaining = intervalNanos;
        }
        long elapsed = Math.max(0, nowNanos - readAtNanos);
        long left = remaining - elapsed;
        long value;
        long total = ticks;
        if (left > 0) {
            value = left;
        } else if (intervalNanos == 0) {
            value = 0;
            total += 1;
        } else {
            long overdue = -left;
            value = intervalNanos - overdue % intervalNanos;
            total += 1 + overdue / intervalNanos;
        }
        if (value > 0 && absoluteOnWallClock()) {
            // Kept absolute so that TFD_TIMER_CANCEL_ON_SET and clock changes act as before.
            return new Setting(flags, nowNanos + value, intervalNanos, total);
        }
        return new Setting(0, value, intervalNanos, total);
    }

    /** @return the wall-clock time in nanoseconds since the epoch, the base of {@link #readAtNanos()} */
    static long now() {
        Instant now = Instant.now();
        return now.getEpochSecond() * NANOS + now.getNano();
    }

    private boolean absoluteOnWallClock() {
        return (flags & Kernel.TFD_TIMER_ABSTIME) != 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_ALARM);
    }

    @Override
    public EventKind kind() {
        return EventKind.TIMERFD;
    }

    @Override
    public String encode() {
        return clock + " " + flags + " " + Long.toUnsignedString(ticks) + " " + remainingNanos + " " + intervalNanos
                + " " + readAtNanos;
    }

    static TimerState decode(String text) {
        String[] parts = text.split(" ");
        return new TimerState(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]),
                Long.parseUnsignedLong(parts[2]), Long.parseLong(parts[3]), Long.parseLong(parts[4]),
                Long.parseLong(parts[5]));
    }
}
