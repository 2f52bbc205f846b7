package org.stasis.plugin.pty;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.TreeMap;

import org.stasis.api.PluginRecords;

/**
 * The pseudo-terminals of a computation at one checkpoint: their state, the bytes
 * drained from them, the sessions they are the controlling terminal of, and (while
 * the checkpoint runs) the coordinator's descriptors on them.
 */
final class Snapshot {
    private static final String PTY = "pty.";
    private static final String CTTY = "ctty.";

    /** A session leader whose controlling terminal is pseudo-terminal {@code index}, with its foreground group. */
    record Session(int index, int foregroundGroup) {
    }

    /** Bytes in flight: {@code input} for the slave's reader, {@code output} for the master's. */
    record Buffered(byte[] input, byte[] output) {
        static final Buffered NONE = new Buffered(new byte[0], new byte[0]);
    }

    final Map<Integer, Pty> ptys = new TreeMap<>();
    final Map<Integer, Buffered> data = new TreeMap<>();
    final Map<Integer, Session> sessions = new TreeMap<>();
    final Map<Integer, Integer> masterFds = new TreeMap<>();
    final Map<Integer, Integer> slaveFds = new TreeMap<>();

    Buffered buffered(int index) {
        return data.getOrDefault(index, Buffered.NONE);
    }

    void write(PluginRecords records, Path directory) throws IOException {
        for (Pty pty : ptys.values()) {
            records.put(PTY + pty.index(), pty.encode());
            Buffered b = buffered(pty.index());
            save(directory.resolve(dataFile(pty.index(), "in")), b.input());
            save(directory.resolve(dataFile(pty.index(), "out")), b.output());
        }
        sessions.forEach((pid, s) -> records.put(CTTY + pid, s.index() + " " + s.foregroundGroup()));
    }

    static Snapshot read(PluginRecords records, Path directory) throws IOException {
        Snapshot snapshot = new Snapshot();
        for (Map.Entry<String, String> r : records.asMap().entrySet()) {
            if (r.getKey().startsWith(PTY)) {
                int index = Integer.parseInt(r.getKey().substring(PTY.length()));
                snapshot.ptys.put(index, Pty.decode(index, r.getValue()));
                snapshot.data.put(index, new Buffered(load(directory.resolve(dataFile(index, "in"))),
                        load(directory.resolve(dataFile(index, "out")))));
            } else if (r.getKey().startsWith(CTTY)) {
                String[] f = r.getValue().split(" ");
                snapshot.sessions.put(Integer.parseInt(r.getKey().substring(CTTY.length())),
                        new Session(Integer.parseInt(f[0]), Integer.parseInt(f[1])));
            }
        }
        return snapshot;
    }

    private static String dataFile(int index, String side) {
        return "pty-" + index + "." + side;
    }

    private static void save(Path file, byte[] bytes) throws IOException {
        if (bytes.length > 0) {
            Files.write(file, bytes);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static byte[] load(Path file) throws IOException {
        return Files.isRegularFile(file) ? Files.readAllBytes(file) : new byte[0];
    }
}
