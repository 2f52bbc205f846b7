package org.stasis.plugin.pty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.sun.jna.Native;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bytes buffered in a real pseudo-terminal, drained and put into a new one: a canonical
 * reader still gets whole lines one by one and a partial line stays partial; nothing is
 * echoed or translated; packet mode, settings and flags are left as they were.
 */
class BufferedBytesTest {
    private static final LibC C = Native.load("c", LibC.class);
    private final Terminal t = new Terminal(C);
    private int oldMaster = -1;
    private int oldSlave = -1;
    private int newMaster = -1;
    private int newSlave = -1;

    private int[] pair() throws IOException {
        int master = t.open("/dev/ptmx", Terminal.O_RDWR);
        t.lock(master, false);
        return new int[] {master, t.open("/dev/pts/" + t.index(master), Terminal.O_RDWR)};
    }

    @BeforeEach
    void open() throws IOException {
        int[] old = pair();
        oldMaster = old[0];
        oldSlave = old[1];
        int[] fresh = pair();
        newMaster = fresh[0];
        newSlave = fresh[1];
    }

    @AfterEach
    void close() {
        for (int fd : new int[] {oldMaster, oldSlave, newMaster, newSlave}) {
            if (fd >= 0) {
                t.close(fd);
            }
        }
    }

    private static String readOnce(int fd) {
        byte[] buffer = new byte[4096];
        long n = C.read(fd, buffer, buffer.length);
        return new String(buffer, 0, (int) n, StandardCharsets.ISO_8859_1);
    }

    private void awaitQueued(int fd, int count) throws IOException, InterruptedException {
        for (int i = 0; i < 500 && t.queued(fd) < count; i++) {
            Thread.sleep(10);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void canonicalInputAndProcessedOutputMoveUnchanged() throws IOException, InterruptedException {
        Termios settings = t.settings(oldSlave);                 // default: canonical, echo, ICRNL, OPOST|ONLCR
        assertTrue(settings.canonical());
        // the line discipline echoes and converts asynchronously (a kernel work queue):
        // the echo is awaited before the program writes, so the order below is the kernel's
        t.writeAll(oldMaster, bytes("first line\rsecond\npart"), Long.MAX_VALUE);
        awaitQueued(oldMaster, "first line\r\nsecond\r\npart".length());
        t.writeAll(oldSlave, bytes("output\n"), Long.MAX_VALUE);
        awaitQueued(oldMaster, "first line\r\nsecond\r\npartoutput\r\n".length());
        t.packetMode(oldMaster, true);
        Drain drain = new Drain(t);
        byte[] input = drain.input(oldSlave);
        byte[] output = drain.output(oldMaster);
        assertArrayEquals(bytes("first line\nsecond\npart"), input, "ICRNL already applied, partial line included");
        // the echo of the typed input came first, then the program's output (ONLCR applied)
        assertArrayEquals(bytes("first line\r\nsecond\r\npartoutput\r\n"), output);
        assertTrue(t.packetMode(oldMaster), "packet mode left on");
        assertTrue(t.settings(oldSlave).canonical(), "canonical mode back");

        t.settings(newMaster, settings);
        new Refill(t).refill(newMaster, newSlave, settings, input, output);
        t.statusFlags(newSlave, t.statusFlags(newSlave) | Terminal.O_NONBLOCK);
        assertEquals("first line\n", readOnce(newSlave), "one line per canonical read");
        assertEquals("second\n", readOnce(newSlave));
        assertFalse(t.readable(newSlave, 50), "a partial line is not readable yet");
        t.writeAll(newMaster, bytes(" done\n"), Long.MAX_VALUE);
        byte[] rest = t.readAvailable(newSlave, 50);
        assertEquals("part done\n", new String(rest, StandardCharsets.ISO_8859_1));
        t.statusFlags(newMaster, t.statusFlags(newMaster) | Terminal.O_NONBLOCK);
        byte[] seen = t.readAvailable(newMaster, 50);
        assertEquals("first line\r\nsecond\r\npartoutput\r\n done\r\n", new String(seen, StandardCharsets.ISO_8859_1),
                "the refill echoed nothing; what is typed afterwards is echoed as the settings say");
        assertArrayEquals(settings.bytes(), t.settings(newSlave).bytes(), "settings as saved");
    }

    @Test
    void rawInputKeepsControlCharacters() throws IOException {
        Termios raw = t.settings(oldSlave).forRefillingInput().forDraining();   // no ISIG, ICRNL, ICANON, ECHO
        t.settings(oldSlave, raw);
        byte[] typed = {3, 4, 13, 10, 127, 0x15, 'x'};                // ^C ^D CR LF DEL ^U x
        t.writeAll(oldMaster, typed, Long.MAX_VALUE);
        byte[] input = new Drain(t).input(oldSlave);
        assertArrayEquals(typed, input);
        t.settings(newMaster, raw);
        new Refill(t).refill(newMaster, newSlave, raw, input, new byte[0]);
        t.statusFlags(newSlave, t.statusFlags(newSlave) | Terminal.O_NONBLOCK);
        assertArrayEquals(typed, t.readAvailable(newSlave, 50));
        t.statusFlags(newMaster, t.statusFlags(newMaster) | Terminal.O_NONBLOCK);
        assertFalse(t.readable(newMaster, 50), "nothing echoed");
    }
}
