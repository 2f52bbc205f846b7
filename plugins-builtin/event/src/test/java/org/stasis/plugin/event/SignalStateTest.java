package org.stasis.plugin.event;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SignalStateTest {
    private static final int SIGINT = 2;
    private static final int SIGUSR1 = 10;
    private static final int SIGRT_36 = 36;

    private final TestSystem system = new TestSystem();

    @AfterEach
    void closeAll() {
        system.close();
    }

    @Test
    void readsAndRecreatesTheSignalMask() throws Exception {
        long mask = bit(SIGINT) | bit(SIGUSR1) | bit(SIGRT_36);
        int original = system.track(system.kernel.signalfd(mask));

        SignalState saved = SignalState.parse(TestSystem.fdinfo(original));
        assertEquals(mask, saved.mask());
        assertEquals("anon_inode:[signalfd]", TestSystem.target(original));

        int copy = system.track(new Recreator(system.kernel, message -> { }, path -> path)
                .create(SignalState.decode(saved.encode()), 0, "test"));
        assertEquals(TestSystem.fdinfo(original).get(TestSystem.fdinfo(original).size() - 1),
                TestSystem.fdinfo(copy).get(TestSystem.fdinfo(copy).size() - 1));
        assertEquals(saved, SignalState.parse(TestSystem.fdinfo(copy)));
    }

    private static long bit(int signal) {
        return 1L << (signal - 1);
    }
}
