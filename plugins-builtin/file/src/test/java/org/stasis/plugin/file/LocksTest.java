package org.stasis.plugin.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stasis.api.FileLock;

class LocksTest {
    @Test
    void parsesTheKernelsLockLines() {
        assertEquals(new FileLock(6, FileLock.Kind.POSIX, true, 5, 10),
                FileLock.parse(6, "lock:\t1: POSIX  ADVISORY  WRITE 31115 fe:00:2146499 5 14").orElseThrow());
        assertEquals(new FileLock(7, FileLock.Kind.FLOCK, false, 0, 0),
                FileLock.parse(7, "lock:\t1: FLOCK  ADVISORY  READ 31115 fe:00:2146499 0 EOF").orElseThrow());
        assertEquals(new FileLock(8, FileLock.Kind.OFD, true, 100, 10),
                FileLock.parse(8, "lock:\t1: OFDLCK ADVISORY  WRITE -1 fe:00:2146499 100 109").orElseThrow());
    }

    @Test
    void leasesAndOtherLinesAreNoLocksItCanTake() {
        assertTrue(FileLock.parse(3, "lock:\t1: LEASE  ACTIVE    READ 4242 fe:00:12 0 EOF").isEmpty());
        assertTrue(FileLock.isLockLine("lock:\t1: LEASE  ACTIVE    READ 4242 fe:00:12 0 EOF"));
        assertTrue(FileLock.parse(3, "pos:\t0").isEmpty());
    }

    @Test
    void survivesItsRecord() {
        FileLock lock = new FileLock(4, FileLock.Kind.OFD, false, 7, 0);
        assertEquals(lock, Locks.decode(4, Locks.encode(lock)));
        assertEquals("OFD read lock on bytes 7-EOF of fd 4", lock.describe());
    }
}
