package org.stasis.plugin.socket;

import java.io.IOException;
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
 * Simulated hosts: one network namespace per host, each joined by a veth pair to a
 * bridge in a "switch" namespace of its own, addresses 192.0.2.N/24. Needs root and
 * {@code ip}; names carry a per-test prefix and only they are deleted. A thread of the
 * test JVM {@link #enter enters} a host (network namespaces are per thread), so that
 * what a plugin creates there is that host's.
 */
final class Hosts implements AutoCloseable {
    private static final int CLONE_NEWNET = 0x40000000;

    interface C extends Library {
        int setns(int fd, int nstype) throws LastErrorException;

        int open(String path, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int getuid();
    }

    private static final C LIBC = Native.load("c", C.class);

    private final String prefix;
    private final List<String> made = new ArrayList<>();

    /** @return whether this test can make namespaces (root, with {@code ip}) */
    static boolean available() {
        return LIBC.getuid() == 0
                && (Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")));
    }

    /** Makes hosts {@code prefix-h1 ... prefix-hN} at 192.0.2.1 ... 192.0.2.N. */
    Hosts(int count) throws IOException {
        this.prefix = "sk" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime() & 0xffff);
        try {
            String sw = add("sw");
            ip("-n", sw, "link", "add", "br0", "type", "bridge");
            ip("-n", sw, "link", "set", "br0", "up");
            for (int i = 1; i <= count; i++) {
                String host = add("h" + i);
                ip("link", "add", "name", "eth0", "netns", host, "type", "veth", "peer", "name", "p" + i, "netns", sw);
                ip("-n", sw, "link", "set", "p" + i, "master", "br0", "up");
                ip("-n", host, "addr", "add", "192.0.2." + i + "/24", "dev", "eth0");
                ip("-n", host, "link", "set", "eth0", "up");
                ip("-n", host, "link", "set", "lo", "up");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** @return the namespace of host {@code i} (1-based) */
    String host(int i) {
        return prefix + "-h" + i;
    }

    /** Moves the calling thread into host {@code i}'s network. */
    void enter(int i) throws IOException {
        try {
            int fd = LIBC.open("/run/netns/" + host(i), 0);
            try {
                LIBC.setns(fd, CLONE_NEWNET);
            } finally {
                LIBC.close(fd);
            }
        } catch (LastErrorException e) {
            throw new IOException("setns into " + host(i) + ": errno " + e.getErrorCode(), e);
        }
    }

    private String add(String name) throws IOException {
        String ns = prefix + "-" + name;
        ip("netns", "add", ns);
        made.add(ns);
        return ns;
    }

    private static void ip(String... arguments) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(arguments));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** Deletes the namespaces this object made (and only them). */
    @Override
    public void close() {
        for (String ns : made) {
            try {
                ip("netns", "del", ns);
            } catch (IOException e) {
                // reported by nothing: a namespace left behind is named with this test's prefix
            }
        }
        made.clear();
    }
}
