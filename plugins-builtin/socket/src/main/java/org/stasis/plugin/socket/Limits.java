package org.stasis.plugin.socket;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The largest socket buffers an unprivileged program may ask for
 * ({@code net.core.rmem_max} and {@code wmem_max}); the kernel grants twice that.
 *
 * @param receiveMax the largest SO_RCVBUF request honoured
 * @param sendMax the largest SO_SNDBUF request honoured
 */
record Limits(long receiveMax, long sendMax) {
    /**
     * @param sysctl the directory of the net.core sysctls ({@code /proc/sys/net/core})
     * @return the limits (unbounded where a file cannot be read)
     */
    static Limits read(Path sysctl) {
        return new Limits(number(sysctl.resolve("rmem_max")), number(sysctl.resolve("wmem_max")));
    }

    // One read: a sysctl file reads as empty from any offset but 0 (Files.readString gets one byte).
    private static long number(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] text = new byte[64];
            int n = in.read(text);
            return Long.parseLong(new String(text, 0, Math.max(0, n), StandardCharsets.US_ASCII).trim());
        } catch (IOException | NumberFormatException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    /** @return the largest size the kernel reports for a buffer of this option after a request */
    long granted(SocketOption option) {
        return 2 * (option == SocketOption.RCVBUF ? receiveMax : sendMax);
    }
}
