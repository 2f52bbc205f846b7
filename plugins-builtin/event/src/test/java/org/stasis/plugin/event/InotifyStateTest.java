package org.stasis.plugin.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InotifyStateTest {
    private static final InotifyState.PathFinder NO_PATHS = (inode, device, handle) -> Optional.empty();

    @TempDir
    Path temp;

    private final TestSystem system = new TestSystem();
    private final List<String> log = new ArrayList<>();

    @AfterEach
    void closeAll() {
        system.close();
    }

    private WatchPaths searchOnly() {
        // A mount table without mounts: the file handles are never tried.
        return new WatchPaths(system.kernel, temp.resolve("no-mountinfo"), List.of(temp), 10_000);
    }

    private int inotifyWith(Path first, Path removed, Path third) throws Exception {
        int fd = system.track(system.kernel.inotify());
        assertEquals(1, system.kernel.addWatch(fd, first.toString(), TestSystem.IN_CREATE | TestSystem.IN_DELETE));
        assertEquals(2, system.kernel.addWatch(fd, removed.toString(), TestSystem.IN_CREATE));
        assertEquals(3, system.kernel.addWatch(fd, third.toString(), TestSystem.IN_MODIFY | TestSystem.IN_ONESHOT));
        system.kernel.removeWatch(fd, 2);
        system.kernel.discardPending(fd);
        return fd;
    }

    @Test
    void readsWatchesAndFindsTheirPathsBySearching() throws Exception {
        Path a = Files.createDirectories(temp.resolve("a"));
        Path b = Files.createDirectories(temp.resolve("b"));
        Path c = Files.writeString(Files.createDirectories(temp.resolve("deep/er/still")).resolve("c.txt"), "x");
        int fd = inotifyWith(a, b, c);
        assertEquals("anon_inode:inotify", TestSystem.target(fd));

        InotifyState state = InotifyState.parse(TestSystem.fdinfo(fd), searchOnly());

        assertEquals(2, state.watches().size(), state.toString());
        InotifyState.Watch first = state.watches().get(0);
        InotifyState.Watch third = state.watches().get(1);
        assertEquals(1, first.wd());
        assertEquals(TestSystem.IN_CREATE | TestSystem.IN_DELETE, first.mask());
        assertEquals(a.toString(), first.path());
        assertEquals(Files.getAttribute(a, "unix:ino"), first.inode());
        assertEquals(Files.getAttribute(a, "unix:dev"), WatchPaths.userDevice(first.device()));
        assertEquals(3, third.wd());
        assertEquals(TestSystem.IN_MODIFY | TestSystem.IN_ONESHOT, third.mask());
        assertEquals(c.toString(), third.path());
    }

    @Test
    void findsPathsByFileHandleWhenAllowed() throws Exception {
        Path outside = Files.createTempDirectory("stasis-event-test-");
        try {
            int fd = system.track(system.kernel.inotify());
            system.kernel.addWatch(fd, outside.toString(), TestSystem.IN_CREATE);
            // No hints: only the file handle can find it.
            WatchPaths handles = new WatchPaths(system.kernel, Path.of("/proc/self/mountinfo"), List.of(), 0);

            InotifyState state = InotifyState.parse(TestSystem.fdinfo(fd), handles);

            boolean privileged = "root".equals(System.getProperty("user.name"));
            assertEquals(privileged ? outside.toString() : "", state.watches().get(0).path(), state.toString());
        } finally {
            Files.delete(outside);
        }
    }

    @Test
    void recreatedInstanceHasTheSameWatchDescriptorsAndNothingToRead() throws Exception {
        Path a = Files.createDirectories(temp.resolve("a"));
        Path b = Files.createDirectories(temp.resolve("b"));
        Path c = Files.writeString(temp.resolve("c.txt"), "x");
        int original = inotifyWith(a, b, c);
        InotifyState saved = InotifyState.decode(InotifyState.parse(TestSystem.fdinfo(original), searchOnly()).encode());

        int copy = system.track(new Recreator(system.kernel, log::add, path -> path).create(saved, 0, "test"));

        InotifyState now = InotifyState.parse(TestSystem.fdinfo(copy), NO_PATHS);
        assertEquals(List.of(1, 3), now.watches().stream().map(InotifyState.Watch::wd).toList());
        for (int i = 0; i < 2; i++) {
            assertEquals(saved.watches().get(i).mask(), now.watches().get(i).mask());
            assertEquals(saved.watches().get(i).inode(), now.watches().get(i).inode());
        }
        assertEquals(0, system.kernel.pendingBytes(copy), "placeholder watches leave no IN_IGNORED behind");
        assertTrue(log.isEmpty(), log.toString());
        assertEquals(0, system.kernel.statusFlags(copy) & Kernel.O_NONBLOCK, "blocking, as the program had it");

        Files.createDirectory(a.resolve("new"));
        assertTrue(system.kernel.pendingBytes(copy) > 0, "the restored watch reports events");
    }

    @Test
    void watchesWithoutPathKeepTheNumberingOfTheOthers() throws Exception {
        Path b = Files.createDirectories(temp.resolve("b"));
        InotifyState saved = new InotifyState(List.of(new InotifyState.Watch(1, TestSystem.IN_CREATE, 99, 0, ""),
                new InotifyState.Watch(2, TestSystem.IN_DELETE, 0, 0, b.toString()),
                new InotifyState.Watch(4, TestSystem.IN_CREATE, 0, 0, temp.resolve("gone").toString())));

        int copy = system.track(new Recreator(system.kernel, log::add, path -> path).create(saved, 0, "test"));

        InotifyState now = InotifyState.parse(TestSystem.fdinfo(copy), NO_PATHS);
        assertEquals(1, now.watches().size(), now.toString());
        assertEquals(2, now.watches().get(0).wd());
        assertEquals(Files.getAttribute(b, "unix:ino"), now.watches().get(0).inode());
        assertEquals(2, log.size(), log.toString());
        assertEquals(0, system.kernel.pendingBytes(copy));
    }

    @Test
    void pathsAreRewrittenAtRestart() throws Exception {
        Path moved = Files.createDirectories(temp.resolve("new/place"));
        InotifyState saved = new InotifyState(
                List.of(new InotifyState.Watch(1, TestSystem.IN_CREATE, 0, 0, "/old/place")));

        int copy = system.track(new Recreator(system.kernel, log::add,
                path -> path.replace("/old", temp.resolve("new").toString())).create(saved, 0, "test"));

        InotifyState now = InotifyState.parse(TestSystem.fdinfo(copy), NO_PATHS);
        assertEquals(Files.getAttribute(moved, "unix:ino"), now.watches().get(0).inode());
    }

    @Test
    void encodingSurvivesOddPaths() {
        InotifyState state = new InotifyState(List.of(new InotifyState.Watch(7, 0x80000300, 0x3f7e8, 0xfe00000,
                "/tmp/with space,comma%and\nnewline")));

        assertEquals(state, InotifyState.decode(state.encode()));
    }
}
