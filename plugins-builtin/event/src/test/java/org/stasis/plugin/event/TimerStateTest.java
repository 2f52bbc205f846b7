package org.stasis.plugin.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TimerStateTest {
    private static final long S = 1_000_000_000L;
    private static final long MS = 1_000_000L;
    private static final int CLOCK_MONOTONIC = 1;

    private final TestSystem system = new TestSystem();
    private final List<String> log = new ArrayList<>();
    private final Recreator recreator = new Recreator(system.kernel, log::add, path -> path);

    @AfterEach
    void closeAll() {
        system.close();
    }

    @Test
    void readsARunningPeriodicTimer() throws Exception {
        int fd = system.track(system.kernel.timerfd(CLOCK_MONOTONIC));
        system.kernel.setTimer(fd, 0, 100 * S, 1500 * MS);

        TimerState state = TimerState.parse(TestSystem.fdinfo(fd), TimerState.now());

        assertEquals(CLOCK_MONOTONIC, state.clock());
        assertEquals(0, state.flags());
        assertEquals(0, state.ticks());
        assertEquals(1500 * MS, state.intervalNanos());
        assertTrue(state.remainingNanos() > 99 * S && state.remainingNanos() <= 100 * S, state.toString());
        assertEquals("anon_inode:[timerfd]", TestSystem.target(fd));
    }

    @Test
    void aRecreatedTimerHasTheRemainingTimeLessWhatPassed() throws Exception {
        int original = system.track(system.kernel.timerfd(CLOCK_MONOTONIC));
        system.kernel.setTimer(original, 0, 50 * S, 2 * S);
        TimerState saved = TimerState.parse(TestSystem.fdinfo(original), TimerState.now());
        // As if the checkpoint had been taken 20 s ago.
        TimerState older = new TimerState(saved.clock(), saved.flags(), saved.ticks(), saved.remainingNanos(),
                saved.intervalNanos(), saved.readAtNanos() - 20 * S);

        int copy = system.track(recreator.create(TimerState.decode(older.encode()), 0, "test"));

        TimerState now = TimerState.parse(TestSystem.fdinfo(copy), TimerState.now());
        assertEquals(CLOCK_MONOTONIC, now.clock());
        assertEquals(2 * S, now.intervalNanos());
        assertTrue(Math.abs(now.remainingNanos() - 30 * S) < S, now.toString());
    }

    @Test
    void aOneShotThatExpiredWhileCheckpointedIsReadableAtOnce() throws Exception {
        TimerState saved = new TimerState(CLOCK_MONOTONIC, 0, 0, 5 * MS, 0, TimerState.now() - S);

        int copy = system.track(recreator.create(saved, 0, "test"));

        TimerState now = TimerState.parse(TestSystem.fdinfo(copy), TimerState.now());
        assertEquals(1, now.ticks());
        assertEquals(0, now.remainingNanos());
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void unreadExpirationsAreKept() throws Exception {
        int original = system.track(system.kernel.timerfd(CLOCK_MONOTONIC));
        system.kernel.setTimer(original, 0, 1, 0);
        Thread.sleep(20);
        TimerState saved = TimerState.parse(TestSystem.fdinfo(original), TimerState.now());
        assertEquals(1, saved.ticks());

        int copy = system.track(recreator.create(saved, 0, "test"));

        assertEquals(1, TimerState.parse(TestSystem.fdinfo(copy), TimerState.now()).ticks());
    }

    @Test
    void aPeriodicTimerCountsMissedPeriodsAndKeepsItsPhase() {
        TimerState saved = new TimerState(CLOCK_MONOTONIC, 0, 2, 1 * S, 2 * S, 100 * S);

        TimerState.Setting setting = saved.restartSetting(110 * S);

        // Due at 101 s, then 103, 105, 107, 109: five missed; next at 111 s.
        assertEquals(new TimerState.Setting(0, 1 * S, 2 * S, 2 + 5), setting);
    }

    @Test
    void aPeriodicTimerWithUnreadTicksRunsOnAfterAPeriod() {
        TimerState saved = new TimerState(CLOCK_MONOTONIC, 0, 3, 0, 1 * S, 100 * S);

        assertEquals(new TimerState.Setting(0, 600 * MS, 1 * S, 3), saved.restartSetting(100 * S + 400 * MS));
    }

    @Test
    void aDisarmedTimerStaysDisarmedWithItsInterval() {
        TimerState saved = new TimerState(CLOCK_MONOTONIC, 0, 0, 0, 5 * S, 100 * S);

        assertEquals(new TimerState.Setting(0, 0, 5 * S, 0), saved.restartSetting(200 * S));
    }

    @Test
    void anAbsoluteWallClockTimerKeepsItsDeadline() {
        TimerState saved = new TimerState(TimerState.CLOCK_REALTIME, 3, 0, 10 * S, 0, 1000 * S);

        assertEquals(new TimerState.Setting(3, 1010 * S, 0, 0), saved.restartSetting(1004 * S));
    }

    @Test
    void aRecreatedAbsoluteWallClockTimerIsAbsoluteAgain() throws Exception {
        int original = system.track(system.kernel.timerfd(TimerState.CLOCK_REALTIME));
        system.kernel.setTimer(original, Kernel.TFD_TIMER_ABSTIME, TimerState.now() + 60 * S, 0);
        TimerState saved = TimerState.parse(TestSystem.fdinfo(original), TimerState.now());
        assertEquals(Kernel.TFD_TIMER_ABSTIME, saved.flags());

        int copy = system.track(recreator.create(saved, 0, "test"));

        TimerState now = TimerState.parse(TestSystem.fdinfo(copy), TimerState.now());
        assertEquals(Kernel.TFD_TIMER_ABSTIME, now.flags());
        assertTrue(Math.abs(now.remainingNanos() - saved.remainingNanos()) < S, now + " vs " + saved);
    }
}
