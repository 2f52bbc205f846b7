package org.stasis.plugin.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.FdSource;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;

/**
 * The whole plugin, from write to the resume after a restart, on real kernel objects
 * of the test JVM standing in for two processes: a parent and a child that shares its
 * epoll instance and an eventfd, as after fork.
 */
class EventPluginTest {
    private static final int PARENT = 10;
    private static final int CHILD = 11;
    private static final int SIGUSR2 = 12;

    @TempDir
    Path temp;

    private final TestSystem system = new TestSystem();
    private final EventPlugin plugin = new EventPlugin(system.kernel);
    private FakeComputation computation;
    private int epoll;
    private int eventfd;
    private int timer;
    private int signal;
    private int inotify;
    private int secondEventfd;
    private int closedNumber;
    private int directory;
    private Path watched;

    @BeforeEach
    void buildTheProgram() throws Exception {
        computation = new FakeComputation(system.fds, temp.resolve("plugin"));
        watched = Files.createDirectories(temp.resolve("watched dir"));
        epoll = system.track(system.kernel.epoll());
        eventfd = system.track(system.kernel.eventfd(3, false));
        int sameEventfd = system.dup(eventfd);
        timer = system.track(system.kernel.timerfd(1));
        system.kernel.setTimer(timer, 0, 100_000_000_000L, 0);
        signal = system.track(system.kernel.signalfd(1L << (SIGUSR2 - 1)));
        inotify = system.track(system.kernel.inotify());
        system.kernel.addWatch(inotify, watched.toString(), TestSystem.IN_CREATE);
        directory = system.track(system.kernel.openDirectory(watched.toString()));
        system.epollAdd(epoll, eventfd, TestSystem.EPOLLIN | TestSystem.EPOLLET, 0xAAL);
        system.epollAdd(epoll, timer, TestSystem.EPOLLIN, 0x77L);
        // A file registered, duplicated, and closed under its registered number.
        int closed = system.kernel.eventfd(0, false);
        system.epollAdd(epoll, closed, TestSystem.EPOLLIN, 0x99L);
        secondEventfd = system.dup(closed);
        system.close(closed);
        closedNumber = closed;

        computation.process(PARENT, epoll, eventfd, sameEventfd, timer, signal, inotify, secondEventfd, directory);
        computation.process(CHILD, system.dup(epoll), system.dup(eventfd));
    }

    @AfterEach
    void closeAll() {
        Set<Integer> passed = new HashSet<>();
        for (int pid : List.of(PARENT, CHILD)) {
            computation.installed(pid).values().forEach(source -> passed.add(((FdSource.Passed) source).descriptor()));
        }
        passed.forEach(system::track);
        system.close();
    }

    @Test
    void savesOneRecordPerObjectWithAllItsHolders() throws Exception {
        plugin.write(computation.checkpoint());

        List<SavedObject> objects = SavedObject.load(computation.checkpoint().records());
        assertEquals(6, objects.size(), computation.records().toString());
        SavedObject shared = objects.stream().filter(o -> o.state().equals(new EventfdState(3, false))).findFirst()
                .orElseThrow();
        assertEquals(3, shared.holders().size(), shared.toString());
        SavedObject epollObject = objects.stream().filter(o -> o.state() instanceof EpollState).findFirst().orElseThrow();
        assertEquals(List.of(PARENT, CHILD), epollObject.holders().stream().map(Holder::pid).toList());
        EpollState state = (EpollState) epollObject.state();
        assertEquals(Set.of(eventfd, timer), Set.copyOf(state.interests().stream().map(EpollState.Interest::fd).toList()));
        assertTrue(computation.log().stream().anyMatch(line -> line.contains("registered as fd " + closedNumber)),
                computation.log().toString());
        InotifyState watches = (InotifyState) objects.stream().filter(o -> o.state() instanceof InotifyState)
                .findFirst().orElseThrow().state();
        assertEquals(watched.toString(), watches.watches().get(0).path());
    }

    @Test
    void restartRecreatesSharedObjectsAndResumeRegistersTheInterestsAgain() throws Exception {
        plugin.write(computation.checkpoint());
        plugin.restart(computation.restart());

        int newEventfd = computation.passed(PARENT, eventfd);
        assertNotEquals(eventfd, newEventfd);
        assertEquals(newEventfd, computation.passed(CHILD, computation.installed(CHILD).keySet().stream()
                .filter(fd -> computation.installed(CHILD).get(fd) instanceof FdSource.Passed p
                        && p.descriptor() == newEventfd).findFirst().orElseThrow()));
        assertEquals(new EventfdState(3, false), EventfdState.parse(TestSystem.fdinfo(newEventfd)));
        assertEquals(new SignalState(1L << (SIGUSR2 - 1)), SignalState.parse(TestSystem.fdinfo(computation.passed(PARENT, signal))));
        long remaining = TimerState.parse(TestSystem.fdinfo(computation.passed(PARENT, timer)), 0).remainingNanos();
        assertTrue(remaining > 90_000_000_000L && remaining <= 100_000_000_000L, Long.toString(remaining));
        assertEquals(Files.getAttribute(watched, "unix:ino"), InotifyState.parse(
                TestSystem.fdinfo(computation.passed(PARENT, inotify)), (i, d, h) -> java.util.Optional.empty())
                .watches().get(0).inode());
        int newEpoll = computation.passed(PARENT, epoll);
        assertEquals(List.of(), EpollState.items(TestSystem.fdinfo(newEpoll)), "registrations wait for resume");

        plugin.resume(computation.resume(ResumeContext.Outcome.RESTARTED));

        List<EpollState.Item> items = EpollState.items(TestSystem.fdinfo(newEpoll));
        assertEquals(2, items.size(), items.toString());
        EpollState.Item forEventfd = items.stream().filter(item -> item.fd() == newEventfd).findFirst().orElseThrow();
        assertEquals(0xAAL, forEventfd.data());
        assertEquals(TestSystem.EPOLLIN | TestSystem.EPOLLET, forEventfd.events() & ~0x18);
        EpollState.Item forTimer = items.stream().filter(item -> item.fd() == computation.passed(PARENT, timer))
                .findFirst().orElseThrow();
        assertEquals(0x77L, forTimer.data());
    }

    @Test
    void resumeAfterAnOrdinaryCheckpointTouchesNothing() throws Exception {
        plugin.write(computation.checkpoint());

        plugin.resume(computation.resume(ResumeContext.Outcome.RESUMED));

        assertEquals(List.of(), computation.epollAdds());
        assertEquals(3, EpollState.items(TestSystem.fdinfo(epoll)).size());
    }

    @Test
    void aRegistrationWhoseFdDidNotComeBackIsLoggedAndSkipped() throws Exception {
        plugin.write(computation.checkpoint());
        plugin.restart(computation.restart());
        computation.installed(PARENT).remove(timer);

        plugin.resume(computation.resume(ResumeContext.Outcome.RESTARTED));

        assertEquals(1, EpollState.items(TestSystem.fdinfo(computation.passed(PARENT, epoll))).size());
        assertTrue(computation.log().stream().anyMatch(line -> line.contains("registered 1 of 2")), computation.log().toString());
    }

    @Test
    void registrationsOfARestartThatFailedBeforeResumeDoNotReachALaterResume() throws Exception {
        plugin.write(computation.checkpoint());
        plugin.restart(computation.restart());
        computation.endOperation(); // the restart failed after this plugin: no resume, its store is dropped

        plugin.resume(computation.resume(ResumeContext.Outcome.RESTARTED));

        assertEquals(List.of(), computation.epollAdds(), "registrations leaked from an earlier restart");
    }
}
