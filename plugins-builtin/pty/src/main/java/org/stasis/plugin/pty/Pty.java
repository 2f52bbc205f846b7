package org.stasis.plugin.pty;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One pseudo-terminal of the computation (its master is held by one of its
 * processes) as saved at a checkpoint.
 *
 * @param index N of /dev/pts/N at checkpoint time
 * @param settings the terminal settings (those of the slave side)
 * @param windowSize the {@code struct winsize}
 * @param packetMode whether the master is in packet mode (TIOCPKT)
 * @param locked whether the slave is locked (TIOCSPTLCK)
 * @param masters the descriptors on the master side
 * @param slaves the descriptors on the slave side (/dev/pts/N, or /dev/tty of a
 *        process whose controlling terminal it is); none: the slave is closed, the
 *        master reads EIO
 */
record Pty(int index, Termios settings, byte[] windowSize, boolean packetMode, boolean locked, List<Holder> masters,
        List<Holder> slaves) {
    Pty {
        masters = List.copyOf(masters);
        slaves = List.copyOf(slaves);
    }

    /** @return one record value: settings, size, modes, master and slave holders */
    String encode() {
        return settings.hex() + " " + HexFormat.of().formatHex(windowSize) + " " + (packetMode ? 1 : 0) + " "
                + (locked ? 1 : 0) + " " + Holder.encode(masters) + " " + (slaves.isEmpty() ? "-" : Holder.encode(slaves));
    }

    static Pty decode(int index, String value) {
        String[] f = value.split(" ");
        List<Holder> slaves = f[5].equals("-") ? new ArrayList<>() : Holder.decodeAll(f[5]);
        return new Pty(index, Termios.parse(f[0]), HexFormat.of().parseHex(f[1]), f[2].equals("1"), f[3].equals("1"),
                Holder.decodeAll(f[4]), slaves);
    }

    String describe() {
        return "pseudo-terminal /dev/pts/" + index;
    }
}
