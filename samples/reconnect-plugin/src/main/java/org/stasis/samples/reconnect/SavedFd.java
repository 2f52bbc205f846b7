package org.stasis.samples.reconnect;

/**
 * One descriptor of one process that refers to a connection to a configured service.
 * Several can refer to the same socket (after dup or fork): {@code socket} is the
 * kernel's inode number, which tells them apart at restart so that they share one
 * new connection again.
 *
 * @param pid the process id inside the computation
 * @param fd the descriptor number
 * @param flags the descriptor's open flags (O_NONBLOCK, O_CLOEXEC)
 * @param socket the socket's inode number at checkpoint time
 * @param connection the connection
 */
record SavedFd(int pid, int fd, int flags, long socket, TcpConnection connection) {
    private static final String PREFIX = "fd.";

    /** @return the record key, unique per process and descriptor */
    String key() {
        return PREFIX + pid + "." + fd;
    }

    /** @return the record value, read back by {@link #decode} */
    String value() {
        return "socket=" + socket + " flags=" + Integer.toOctalString(flags) + " " + connection.encode();
    }

    /**
     * @param key a record key
     * @return whether it is one of this plugin's descriptor records
     */
    static boolean isKey(String key) {
        return key.startsWith(PREFIX);
    }

    /**
     * @param key what {@link #key()} wrote
     * @param value what {@link #value()} wrote
     * @return the saved descriptor
     * @throws IllegalArgumentException if the record is damaged
     */
    static SavedFd decode(String key, String value) {
        String[] ids = key.substring(PREFIX.length()).split("\\.");
        String[] words = value.split(" ", 3);
        if (ids.length != 2 || words.length != 3 || !words[0].startsWith("socket=") || !words[1].startsWith("flags=")) {
            throw new IllegalArgumentException("damaged record " + key + "=" + value);
        }
        try {
            return new SavedFd(Integer.parseInt(ids[0]), Integer.parseInt(ids[1]),
                    Integer.parseInt(words[1].substring("flags=".length()), 8),
                    Long.parseLong(words[0].substring("socket=".length())), TcpConnection.decode(words[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("damaged record " + key + "=" + value);
        }
    }

    /**
     * @param target an {@code OpenFd} target such as {@code socket:[5678]}
     * @return the inode number in it
     */
    static long inodeOf(String target) {
        return Long.parseLong(target.substring(target.indexOf('[') + 1, target.lastIndexOf(']')));
    }
}
