package org.stasis.framework.agent;

import java.io.IOException;
import java.util.Map;

import org.stasis.framework.store.ProcessTree;

/**
 * Refuses a checkpoint whose process tree a restart could not recreate: a process in a
 * session or process group whose leader has exited. The restorer makes sessions and
 * groups by having their leader call setsid/setpgid; with the leader gone, the members
 * would silently land in another session or group.
 */
final class TreeCheck {
    private TreeCheck() {
    }

    /**
     * @param trees every process of the checkpoint: pid to its place in the tree
     * @throws IOException naming the first process whose session or group has no leader
     */
    static void check(Map<Integer, ProcessTree> trees) throws IOException {
        for (ProcessTree tree : trees.values()) {
            if (leaderGone(tree.session(), trees)) {
                throw new IOException("process " + tree.pid() + " is in session " + tree.session()
                        + " whose leader has exited: restarting such a session is not supported yet");
            }
            if (leaderGone(tree.processGroup(), trees)) {
                throw new IOException("process " + tree.pid() + " is in process group " + tree.processGroup()
                        + " whose leader has exited: restarting such a group is not supported yet");
            }
        }
    }

    // 0: outside the computation's pid namespace; 1: its init (both stay what they are)
    private static boolean leaderGone(int leader, Map<Integer, ProcessTree> trees) {
        return leader > 1 && !trees.containsKey(leader);
    }
}
