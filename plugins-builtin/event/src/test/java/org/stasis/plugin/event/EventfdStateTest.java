package org.stasis.plugin.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EventfdStateTest {
    private final TestSystem system = new TestSystem();
    private final Recreator recreator = new Recreator(system.kernel, message -> { }, path -> path);

    @AfterEach
    void closeAll() {
        system.close();
    }

    @Test
    void readsTheCounterInHexAndTheSemaphoreMode() throws Exception {
        int fd = system.track(system.kernel.eventfd(1000, true));

        EventfdState state = EventfdState.parse(TestSystem.fdinfo(fd));

        assertEquals(new EventfdState(1000, true), state);
        assertEquals("anon_inode:[eventfd]", TestSystem.target(fd));
    }

    @Test
    void aCounterBeyond32BitsComesBackWhole() throws Exception {
        EventfdState saved = new EventfdState(0x1_0000_0005L, false);

        int fd = system.track(recreator.create(saved, 0, "test"));

        assertEquals(saved, EventfdState.parse(TestSystem.fdinfo(fd)));
    }

    @Test
    void recreatedEventfdMatchesTheOriginal() throws Exception {
        int original = system.track(system.kernel.eventfd(7, true));
        EventfdState saved = EventfdState.decode(EventfdState.parse(TestSystem.fdinfo(original)).encode());

        int copy = system.track(recreator.create(saved, Kernel.O_NONBLOCK, "test"));

        List<String> fdinfo = TestSystem.fdinfo(copy);
        assertEquals(new EventfdState(7, true), EventfdState.parse(fdinfo));
        assertTrue((system.kernel.statusFlags(copy) & Kernel.O_NONBLOCK) != 0, "program's O_NONBLOCK applied");
    }

    @Test
    void blockingProgramsGetABlockingDescriptor() throws Exception {
        int copy = system.track(recreator.create(new EventfdState(0, false), 0, "test"));

        assertFalse((system.kernel.statusFlags(copy) & Kernel.O_NONBLOCK) != 0);
    }
}
