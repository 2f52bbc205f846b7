package org.stasis.plugin.socket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The descriptors a restart has made so far. The plugin owns them until it hands the
 * sockets to the core; on failure it closes every one.
 */
final class Made {
    /**
     * The end that plays a peer that is not there any more: it sends the saved data,
     * then goes away.
     *
     * @param fd its descriptor
     * @param tcp whether it is a TCP socket
     * @param reset whether it goes away with a reset (else it closes normally)
     */
    record StandIn(int fd, boolean tcp, boolean reset) {
    }

    /** The new descriptor of each socket, by the old socket's inode. */
    final Map<Long, Integer> sockets = new LinkedHashMap<>();
    /** The stand-ins for vanished peers, by the inode of the socket they are connected to. */
    final Map<Long, StandIn> standIns = new LinkedHashMap<>();
    /** Helpers (temporary listeners, an anonymous sender) closed when the restart's part is done. */
    final List<Integer> temporary = new ArrayList<>();

    /** Closes the helpers. */
    void closeTemporary(Sockets calls) {
        temporary.forEach(calls::close);
        temporary.clear();
    }

    /** Closes everything after a failure. */
    void closeAll(Sockets calls) {
        sockets.values().forEach(calls::close);
        standIns.values().forEach(s -> calls.close(s.fd()));
        sockets.clear();
        standIns.clear();
        closeTemporary(calls);
    }
}
