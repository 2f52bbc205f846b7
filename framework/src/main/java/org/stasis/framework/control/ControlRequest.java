package org.stasis.framework.control;

import java.nio.channels.SocketChannel;

/**
 * A complete request read from a control connection.
 *
 * @param channel the connection, in blocking mode, owned by whoever serves the request
 * @param line the request line ({@code PING}, {@code EXEC <n>}, {@code SHELL} or anything else)
 * @param script for EXEC, the script; else null
 * @param rest bytes that followed the request (the start of a SHELL session's input)
 */
record ControlRequest(SocketChannel channel, String line, String script, byte[] rest) {
}
