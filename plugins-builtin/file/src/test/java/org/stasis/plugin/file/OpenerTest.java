package org.stasis.plugin.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenerTest {
    private static final int O_WRONLY = 01;
    private static final int O_APPEND = 02000;

    @TempDir
    Path temp;

    @Test
    void aDeletedFilesCopyNeverHasANameAndKeepsFlagsOffsetAndContent() throws Exception {
        Path saved = Files.writeString(temp.resolve("saved.blob"), "record 1\nrecord 2\n");
        Path home = Files.createDirectory(temp.resolve("home"));
        Opener opener = new Opener();

        int fd = opener.openUnnamedCopy(saved, home, O_WRONLY | O_APPEND, 9);
        try {
            try (var names = Files.list(home)) {
                assertEquals(List.of(), names.toList(), "the copy must never be visible by name");
            }
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            assertTrue(target.startsWith(home.toString()) && target.endsWith("(deleted)"), target);
            String info = Files.readString(Path.of("/proc/self/fdinfo/" + fd));
            assertTrue(info.contains("pos:\t9\n"), info);
            int flags = Integer.parseInt(info.replaceAll("(?s).*flags:\\s*([0-7]+).*", "$1"), 8);
            assertEquals(O_WRONLY | O_APPEND, flags & (O_WRONLY | O_APPEND | 02), info);
            assertEquals("record 1\nrecord 2\n", Files.readString(Path.of("/proc/self/fd/" + fd)));
        } finally {
            new Opener().close(fd);
        }
    }

    @Test
    void aFileOpenedWithNoFollowComesBackToo() throws Exception {
        // Python's tempfile opens O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW; the flags are saved as they were
        Path saved = Files.writeString(temp.resolve("saved.blob"), "tempfile");
        Opener opener = new Opener();

        int fd = opener.openUnnamedCopy(saved, temp, 02 | 0100 | 0200 | 0400000, 3);
        try {
            assertEquals("tempfile", Files.readString(Path.of("/proc/self/fd/" + fd)));
        } finally {
            opener.close(fd);
        }
    }

    @Test
    void aVanishedDirectoryFallsBackToTheTemporaryDirectory() throws Exception {
        Path saved = Files.writeString(temp.resolve("saved.blob"), "x");
        Opener opener = new Opener();

        int fd = opener.openUnnamedCopy(saved, temp.resolve("gone"), 0, 0);
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            assertTrue(target.endsWith("(deleted)"), target);
        } finally {
            opener.close(fd);
        }
    }
}
