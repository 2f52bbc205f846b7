package org.stasis.plugin.socket;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What waited in a socket's receive queue at checkpoint time: a run of bytes (stream
 * sockets) or messages with their boundaries and senders (datagram and seqpacket
 * sockets).
 *
 * @param stream whether this is a byte stream
 * @param bytes the stream's bytes (empty for messages)
 * @param messages the messages, oldest first (empty for a stream)
 */
record Queued(boolean stream, byte[] bytes, List<Message> messages) {
    /**
     * One datagram or seqpacket message.
     *
     * @param from who sent it ({@link Address#NONE} if the kernel did not say)
     * @param data its bytes
     */
    record Message(Address from, byte[] data) {
        Message {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Message m && from.equals(m.from) && Arrays.equals(data, m.data);
        }

        @Override
        public int hashCode() {
            return 31 * from.hashCode() + Arrays.hashCode(data);
        }
    }

    private static final int STREAM = 'S';
    private static final int MESSAGES = 'M';

    Queued {
        bytes = bytes.clone();
        messages = List.copyOf(messages);
    }

    static Queued ofBytes(byte[] bytes) {
        return new Queued(true, bytes, List.of());
    }

    static Queued ofMessages(List<Message> messages) {
        return new Queued(false, new byte[0], messages);
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    boolean isEmpty() {
        return stream ? bytes.length == 0 : messages.isEmpty();
    }

    /** @return the bytes held, for messages */
    long size() {
        return stream ? bytes.length : messages.stream().mapToLong(m -> m.data.length).sum();
    }

    /** @return e.g. {@code 1200 bytes} or {@code 3 messages (120 bytes)}, for messages */
    String summary() {
        return stream ? bytes.length + " bytes" : messages.size() + " messages (" + size() + " bytes)";
    }

    /** @return the blob stored in the checkpoint */
    byte[] encode() throws IOException {
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(blob)) {
            if (stream) {
                out.writeByte(STREAM);
                out.writeInt(bytes.length);
                out.write(bytes);
            } else {
                out.writeByte(MESSAGES);
                out.writeInt(messages.size());
                for (Message m : messages) {
                    byte[] from = m.from.raw();
                    out.writeShort(from.length);
                    out.write(from);
                    out.writeInt(m.data.length);
                    out.write(m.data);
                }
            }
        }
        return blob.toByteArray();
    }

    /** @return the content of a blob {@link #encode} wrote */
    static Queued decode(byte[] blob) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(blob))) {
            int kind = in.readUnsignedByte();
            if (kind == STREAM) {
                return ofBytes(in.readNBytes(in.readInt()));
            }
            if (kind != MESSAGES) {
                throw new IOException("not a socket queue blob");
            }
            int count = in.readInt();
            List<Message> messages = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                Address from = new Address(in.readNBytes(in.readUnsignedShort()));
                messages.add(new Message(from, in.readNBytes(in.readInt())));
            }
            return ofMessages(messages);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Queued q && stream == q.stream && Arrays.equals(bytes, q.bytes)
                && messages.equals(q.messages);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes) + messages.hashCode();
    }
}
