package org.stasis.plugin.vnc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;

/**
 * The plugin from write to the resume after a restart, with a /proc and a /tmp of the
 * test's own: a process that is Xvnc (its cmdline), holds a real listening Unix socket
 * of the test JVM, and whose /proc/net/unix names that socket /tmp/.X11-unix/X42.
 */
class VncPluginTest {
    private static final int XVNC = 7;
    private static final int DISPLAY = 42;
    private static final int SELF = (int) ProcessHandle.current().pid();

    @TempDir
    Path temp;

    private Path proc;
    private Path tmp;
    private ServerSocketChannel listener;
    private FakeComputation computation;
    private VncPlugin plugin;

    @BeforeEach
    void anXvnc() throws IOException {
        proc = Files.createDirectories(temp.resolve("proc"));
        tmp = Files.createDirectories(temp.resolve("tmp"));
        Set<String> before = socketFds();
        listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(temp.resolve("rfb.sock")));
        Set<String> fds = socketFds();
        fds.removeAll(before);
        String fd = fds.iterator().next();
        String target = Files.readSymbolicLink(Path.of("/proc/self/fd", fd)).toString();
        String inode = target.substring("socket:[".length(), target.length() - 1);
        Path mine = Files.createDirectories(proc.resolve(Integer.toString(SELF)).resolve("net"));
        Files.write(mine.getParent().resolve("cmdline"), "/usr/bin/Xvnc\0:42\0-rfbport\0-1\0".getBytes(StandardCharsets.UTF_8));
        Files.writeString(mine.resolve("unix"), "Num       RefCount Protocol Flags    Type St Inode Path\n"
                + "0000000000000000: 00000002 00000000 00010000 0001 01 99999 /somewhere/else\n"
                + "0000000000000000: 00000002 00000000 00010000 0001 01 " + inode + " @/tmp/.X11-unix/X" + DISPLAY + "\n");
        Files.writeString(tmp.resolve(".X42-lock"), "         7\n");
        computation = new FakeComputation(temp.resolve("plugin")).process(1).process(XVNC, Integer.parseInt(fd));
        plugin = new VncPlugin(new XDisplays(proc, tmp));
    }

    @AfterEach
    void close() throws IOException {
        listener.close();
        computation.close();
    }

    private static Set<String> socketFds() throws IOException {
        Set<String> result = new HashSet<>();
        try (var list = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) list::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:[")) {
                        result.add(fd.getFileName().toString());
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return result;
    }

    @Test
    void aCheckpointNotesTheDisplayAndTheLockAndARestartWritesTheLockAgain() throws Exception {
        plugin.write(computation.checkpoint());
        assertEquals(Map.of("display.7", "42", "lock.7", "7"), computation.records());

        FakeComputation restarted = computation.restarted();
        plugin.restart(restarted.restart());
        assertFalse(Files.exists(tmp.resolve(".X42-lock")), "the killed server's lock file stays");
        plugin.resume(restarted.resume(ResumeContext.Outcome.RESTARTED));
        assertEquals(String.format("%10d%n", SELF), Files.readString(tmp.resolve(".X42-lock")));
        assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(tmp.resolve(".X42-lock"))));
        restarted.close();
    }

    @Test
    void aLockOfAnotherServerIsLeftAlone() throws Exception {
        plugin.write(computation.checkpoint());
        Files.writeString(tmp.resolve(".X42-lock"), "      4242\n");
        FakeComputation restarted = computation.restarted();
        plugin.restart(restarted.restart());
        plugin.resume(restarted.resume(ResumeContext.Outcome.RESTARTED));
        assertEquals("      4242\n", Files.readString(tmp.resolve(".X42-lock")));
        restarted.close();
    }

    @Test
    void aDisplayTakenAtRestartStopsItWithOneLineNamingIt() throws Exception {
        plugin.write(computation.checkpoint());
        Files.createDirectories(tmp.resolve(".X11-unix"));
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(tmp.resolve(".X11-unix/X42")));
            FakeComputation restarted = computation.restarted();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> plugin.restart(restarted.restart()));
            assertTrue(e.getMessage().startsWith("X display :42 of the checkpoint is taken: another X server answers on "),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            restarted.close();
        }
    }

    @Test
    void aServerWithoutLockFileGetsNone() throws Exception {
        Files.delete(tmp.resolve(".X42-lock"));
        plugin.write(computation.checkpoint());
        assertEquals(Map.of("display.7", "42"), computation.records());
        FakeComputation restarted = computation.restarted();
        plugin.restart(restarted.restart());
        plugin.resume(restarted.resume(ResumeContext.Outcome.RESTARTED));
        assertFalse(Files.exists(tmp.resolve(".X42-lock")));
        restarted.close();
    }

    @Test
    void aProgramWhoseGraphicsServerIsGoneIsNotCheckpointed() throws Exception {
        Files.write(proc.resolve(Integer.toString(SELF)).resolve("cmdline"), "python3\0plot.py\0".getBytes(StandardCharsets.UTF_8));
        Files.write(proc.resolve(Integer.toString(SELF)).resolve("environ"),
                "HOME=/root\0DISPLAY=:42\0STASIS_VNC_SOCKET=/run/stasis/graphics/rfb-2-ab.sock\0".getBytes(StandardCharsets.UTF_8));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> plugin.write(computation.checkpoint()));
        assertEquals("the graphics server (Xvnc :42) of process 1 is gone (killed?): its windows cannot come back; "
                + "start the program again with its graphics", e.getMessage());
    }

    @Test
    void aProgramWhoseGraphicsServerRunsIsCheckpointed() throws Exception {
        Files.write(proc.resolve(Integer.toString(SELF)).resolve("cmdline"),
                "Xvnc\0-rfbunixpath\0/run/stasis/graphics/rfb-2-ab.sock\0".getBytes(StandardCharsets.UTF_8));
        Files.write(proc.resolve(Integer.toString(SELF)).resolve("environ"),
                "STASIS_VNC_SOCKET=/run/stasis/graphics/rfb-2-ab.sock\0".getBytes(StandardCharsets.UTF_8));
        plugin.write(computation.checkpoint());
        assertEquals("42", computation.records().get("display.7"));
    }

    @Test
    void otherProgramsAreNotDisplays() throws Exception {
        Files.write(proc.resolve(Integer.toString(SELF)).resolve("cmdline"), "python3\0x.py\0".getBytes(StandardCharsets.UTF_8));
        plugin.write(computation.checkpoint());
        assertTrue(computation.records().isEmpty(), computation.records().toString());
    }
}
