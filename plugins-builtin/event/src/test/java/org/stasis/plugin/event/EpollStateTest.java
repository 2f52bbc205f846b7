package org.stasis.plugin.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EpollStateTest {
    private final TestSystem system = new TestSystem();
    private final Identity identity = new Identity(system.kernel);

    @AfterEach
    void closeAll() {
        system.close();
    }

    @Test
    void readsRegistrationsWithTheirEventsAndData() throws Exception {
        int epoll = system.track(system.kernel.epoll());
        int eventfd = system.track(system.kernel.eventfd(0, false));
        int timer = system.track(system.kernel.timerfd(1));
        system.epollAdd(epoll, eventfd, TestSystem.EPOLLIN | TestSystem.EPOLLET, 0x1122334455667788L);
        system.epollAdd(epoll, timer, TestSystem.EPOLLIN | TestSystem.EPOLLONESHOT, -2L);
        assertEquals("anon_inode:[eventpoll]", TestSystem.target(epoll));

        List<EpollState.Item> items = EpollState.items(TestSystem.fdinfo(epoll));

        assertEquals(2, items.size(), items.toString());
        EpollState.Item first = items.stream().filter(item -> item.fd() == eventfd).findFirst().orElseThrow();
        EpollState.Item second = items.stream().filter(item -> item.fd() == timer).findFirst().orElseThrow();
        // The kernel adds EPOLLERR | EPOLLHUP to every registration.
        assertEquals(TestSystem.EPOLLIN | TestSystem.EPOLLET, first.events() & ~0x18);
        assertEquals(0x1122334455667788L, first.data());
        assertEquals(0, first.occurrence());
        assertEquals(TestSystem.EPOLLIN | TestSystem.EPOLLONESHOT, second.events() & ~0x18);
        assertEquals(-2L, second.data());
    }

    @Test
    void kcmpTellsWhichFileARegistrationIsFor() throws Exception {
        int epoll = system.track(system.kernel.epoll());
        int registered = system.track(system.kernel.eventfd(0, false));
        int other = system.track(system.kernel.eventfd(0, false));
        system.epollAdd(epoll, registered, TestSystem.EPOLLIN, 1);

        assertEquals(Optional.of(true), identity.registered(system.dup(registered), epoll, registered, 0));
        assertEquals(Optional.of(false), identity.registered(other, epoll, registered, 0));
        assertEquals(Optional.of(false), identity.registered(registered, epoll, other, 0), "no such registration");
    }

    @Test
    void duplicatesAreTheSameObjectAndTwinsAreNot() throws Exception {
        int eventfd = system.track(system.kernel.eventfd(0, false));
        int twin = system.track(system.kernel.eventfd(0, false));

        assertTrue(identity.sameFile(eventfd, system.dup(eventfd)));
        assertFalse(identity.sameFile(eventfd, twin));
    }

    @Test
    void withoutKcmpTheFlagProbeGivesTheSameAnswers() throws Exception {
        Identity probing = new Identity(new Kernel(com.sun.jna.Native.load("c", LibC.class), -1));
        int eventfd = system.track(system.kernel.eventfd(0, false));
        int twin = system.track(system.kernel.eventfd(0, false));
        int copy = system.dup(eventfd);

        assertTrue(probing.sameFile(eventfd, copy));
        assertFalse(probing.sameFile(eventfd, twin));
        assertEquals(0, system.kernel.statusFlags(eventfd) & Kernel.O_NONBLOCK, "the probe puts the flags back");
        assertEquals(Optional.empty(), probing.registered(eventfd, twin, eventfd, 0));
    }

    @Test
    void encodingRoundTrips() {
        EpollState state = new EpollState(List.of(new EpollState.Interest(12, 5, 0x80000019, -1L),
                new EpollState.Interest(13, 1000, 1, 0)));

        assertEquals(state, EpollState.decode(state.encode()));
        assertEquals(new EpollState(List.of()), EpollState.decode(new EpollState(List.of()).encode()));
    }
}
