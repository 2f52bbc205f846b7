package org.stasis.plugin.pty;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/**
 * A C library {@code struct termios} (x86-64 glibc layout, 60 bytes) and the
 * temporary settings the plugin uses to move buffered bytes through a line
 * discipline without changing them.
 *
 * @param bytes the raw structure
 */
record Termios(byte[] bytes) {
    static final int SIZE = 60;
    private static final int IFLAG = 0;
    private static final int OFLAG = 4;
    private static final int LFLAG = 12;
    private static final int CC = 17;
    // c_iflag: input translations and flow control
    private static final int INPUT_MAPPING = 040 | 0100 | 0200 | 0400 | 01000 | 02000 | 010000 | 010 | 020;
    private static final int OPOST = 1;
    private static final int ICANON = 2;
    private static final int ISIG = 1;
    private static final int ECHO = 010;
    private static final int ECHO_ALL = 010 | 020 | 040 | 0100 | 01000 | 02000 | 04000;
    private static final int IEXTEN = 0100000;
    // VERASE, VKILL, VEOF, VEOL, VREPRINT, VWERASE, VLNEXT, VEOL2
    private static final int[] EDITING_CHARS = {2, 3, 4, 11, 12, 14, 15, 16};
    private static final int VTIME = 5;
    private static final int VMIN = 6;

    Termios {
        if (bytes.length != SIZE) {
            throw new IllegalArgumentException("a termios structure has " + SIZE + " bytes, not " + bytes.length);
        }
        bytes = bytes.clone();
    }

    static Termios parse(String hex) {
        return new Termios(HexFormat.of().parseHex(hex));
    }

    String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    boolean canonical() {
        return (flag(LFLAG) & ICANON) != 0;
    }

    /** Non-canonical, no echo, reads return what is there: to take every buffered input byte. */
    Termios forDraining() {
        Termios t = new Termios(bytes);
        t.setFlag(LFLAG, t.flag(LFLAG) & ~(ICANON | ECHO_ALL));
        t.bytes[CC + VMIN] = 0;
        t.bytes[CC + VTIME] = 0;
        return t;
    }

    /**
     * Input as the program left it (canonical or not), echoed raw once so the plugin
     * knows when the line discipline took it, with no translation, no signals and no
     * editing characters: bytes written to the master arrive unchanged.
     */
    Termios forRefillingInput() {
        Termios t = new Termios(bytes);
        t.setFlag(IFLAG, t.flag(IFLAG) & ~INPUT_MAPPING);
        t.setFlag(OFLAG, t.flag(OFLAG) & ~OPOST);
        t.setFlag(LFLAG, (t.flag(LFLAG) & ~(ECHO_ALL | ISIG | IEXTEN)) | ECHO);
        for (int c : EDITING_CHARS) {
            t.bytes[CC + c] = 0;
        }
        return t;
    }

    /** No output processing: bytes written to the slave reach the master unchanged. */
    Termios forRefillingOutput() {
        Termios t = new Termios(bytes);
        t.setFlag(OFLAG, t.flag(OFLAG) & ~OPOST);
        return t;
    }

    private int flag(int offset) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
    }

    private void setFlag(int offset, int value) {
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
    }
}
