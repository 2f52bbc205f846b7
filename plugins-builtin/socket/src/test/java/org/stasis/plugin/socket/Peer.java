package org.stasis.plugin.socket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * A real child process running {@code tcp-peer.py}, one program of one part. Its
 * sockets are shared with the test JVM through {@code pidfd_getfd}, so that a
 * {@code FakeComputation} can stand for its process: the plugin drains and refills the
 * very sockets the child holds, and the child checks what it reads afterwards.
 */
final class Peer implements AutoCloseable {
    private static final long PIDFD_OPEN = 434;
    private static final long PIDFD_GETFD = 438;

    interface C extends Library {
        long syscall(long number, Object... arguments) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static final C LIBC = Native.load("c", C.class);

    private final Process process;
    private final BufferedReader out;
    private final OutputStream in;
    private final List<Integer> taken = new ArrayList<>();

    private Peer(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.in = process.getOutputStream();
    }

    /** Starts the script in {@code temp} with these arguments. */
    static Peer start(Path temp, String... arguments) throws IOException {
        return startIn(temp, null, arguments);
    }

    /** Starts the script in network namespace {@code netns} (null: this one). */
    static Peer startIn(Path temp, String netns, String... arguments) throws IOException {
        Path script = temp.resolve("tcp-peer.py");
        if (!Files.exists(script)) {
            try (InputStream resource = Peer.class.getResourceAsStream("tcp-peer.py")) {
                Files.copy(resource, script);
            }
        }
        List<String> command = new ArrayList<>();
        if (netns != null) {
            command.addAll(List.of("ip", "netns", "exec", netns));
        }
        command.addAll(List.of(python(), script.toString()));
        command.addAll(List.of(arguments));
        return new Peer(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    private static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    /** @return the child's next line of output, split on spaces (waits up to 20 s) */
    String[] line() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!out.ready()) {
            if (System.nanoTime() > deadline || !process.isAlive() && !out.ready()) {
                throw new IOException("the peer said nothing (alive: " + process.isAlive() + ")");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
        return out.readLine().split(" ");
    }

    void tell(String line) throws IOException {
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    /** @return a descriptor of the test JVM for the child's descriptor {@code fd} (the same open socket) */
    int take(int fd) throws IOException {
        try {
            int pidfd = (int) LIBC.syscall(PIDFD_OPEN, (int) process.pid(), 0);
            try {
                int mine = (int) LIBC.syscall(PIDFD_GETFD, pidfd, fd, 0);
                taken.add(mine);
                return mine;
            } finally {
                LIBC.close(pidfd);
            }
        } catch (LastErrorException e) {
            throw new IOException("pidfd_getfd of the peer's fd " + fd + ": errno " + e.getErrorCode(), e);
        }
    }

    /** Kills the child (by its pid) and closes the test JVM's descriptors of its sockets. */
    @Override
    public void close() throws IOException {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int fd : taken) {
            try {
                LIBC.close(fd);
            } catch (LastErrorException e) {
                // closed already
            }
        }
        taken.clear();
        out.close();
        in.close();
    }
}
