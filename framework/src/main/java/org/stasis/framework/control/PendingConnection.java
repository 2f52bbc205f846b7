package org.stasis.framework.control;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A connection whose request has not fully arrived yet: the bytes read so far and what
 * they say. It is parsed without a thread of its own; only a complete request (token
 * line on TCP, request line, and for EXEC exactly the announced number of bytes) is
 * ever handed on, so a truncated EXEC is never executed.
 */
final class PendingConnection {
    /** Longest request line, without its newline. */
    static final int MAX_REQUEST_LINE = 64;
    /** Longest token line: the prefix, 256 hex digits and a CR. */
    static final int MAX_TOKEN_LINE = 6 + 256 + 1;
    /** Largest EXEC script. */
    static final int MAX_SCRIPT = 1 << 20;

    /** What the bytes so far amount to. */
    enum Step { MORE, TOKEN, COMPLETE }

    final SocketChannel channel;
    final String source;
    final long order;
    final long started;
    long idleDeadline;
    long delayedUntil;
    private boolean needToken;
    private byte[] bytes = new byte[128];
    private int length;
    private String tokenLine;
    private String request;
    private int scriptStart = -1;
    private int scriptLength = -1;

    PendingConnection(SocketChannel channel, String source, boolean needToken, long order, long now) {
        this.channel = channel;
        this.source = source;
        this.needToken = needToken;
        this.order = order;
        this.started = now;
    }

    /** @return bytes held */
    int buffered() {
        return bytes.length;
    }

    /** @param data bytes just read; appended */
    void append(ByteBuffer data) {
        int n = data.remaining();
        if (length + n > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(length + n, Math.min(bytes.length * 2, MAX_SCRIPT + 512)));
        }
        data.get(bytes, length, n);
        length += n;
    }

    /**
     * @return what is complete so far
     * @throws IllegalArgumentException with one line if the bytes break the protocol
     */
    Step parse() {
        if (needToken) {
            if (tokenLine == null) {
                int end = lineEnd(0, MAX_TOKEN_LINE, "first line");
                if (end < 0) {
                    return Step.MORE;
                }
                tokenLine = text(0, end);
            }
            return Step.TOKEN;
        }
        int from = tokenLine == null ? 0 : tokenLine.length() + 1;
        if (request == null) {
            int end = lineEnd(from, MAX_REQUEST_LINE, "request line");
            if (end < 0) {
                return Step.MORE;
            }
            request = text(from, end);
            scriptStart = end + 1;
            if (request.startsWith("EXEC ")) {
                scriptLength = scriptLength(request.substring(5));
            }
        }
        return scriptLength < 0 || length - scriptStart >= scriptLength ? Step.COMPLETE : Step.MORE;
    }

    /** Called once the token line was accepted. */
    void tokenAccepted() {
        needToken = false;
    }

    /** @return the token line, once parsed */
    String tokenLine() {
        return tokenLine;
    }

    /** @return the complete request: the line, the EXEC script, and what followed (the start of a SHELL's input) */
    ControlRequest request() {
        int scriptEnd = scriptStart + Math.max(scriptLength, 0);
        String script = scriptLength < 0 ? null : new String(bytes, scriptStart, scriptLength, StandardCharsets.UTF_8);
        return new ControlRequest(channel, request, script, Arrays.copyOfRange(bytes, scriptEnd, length));
    }

    private int lineEnd(int from, int max, String what) {
        for (int i = from; i < length; i++) {
            if (bytes[i] == '\n') {
                return i;
            }
            if (i - from >= max) {
                break;
            }
        }
        if (length - from > max) {
            throw new IllegalArgumentException(what + " longer than " + max + " bytes");
        }
        return -1;
    }

    private String text(int from, int end) {
        return new String(bytes, from, end - from, StandardCharsets.US_ASCII);
    }

    private static int scriptLength(String text) {
        int size;
        try {
            size = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad EXEC length '" + text + "'");
        }
        if (size < 0 || size > MAX_SCRIPT) {
            throw new IllegalArgumentException("EXEC of " + size + " bytes, more than the limit of " + MAX_SCRIPT);
        }
        return size;
    }
}
