package org.stasis.framework.span;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each part of a checkpoint that spans hosts restarts ({@code stasis restart
 * --hosts h1,h2 [--map PART=HOST,...]}): every part placed on a host named in
 * {@code --hosts}, each host known (the main or a member joined to it). Without
 * {@code --map} the parts go round-robin over the hosts; with it, every part must be
 * mapped. Anything wrong is one line, before anything is started.
 */
public final class Placement {
    private Placement() {
    }

    /**
     * @param parts every part's name, the main's first
     * @param hosts the hosts of {@code --hosts}, in order
     * @param map {@code --map}: part name to host
     * @param known the hosts that can restart a part: the main's and its members'
     * @return part name to host, in the parts' order
     * @throws IllegalArgumentException with one line if the placement is wrong
     */
    public static Map<String, String> place(List<String> parts, List<String> hosts, Map<String, String> map,
            Set<String> known) {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("--hosts names no host; give e.g. --hosts " + String.join(",", known));
        }
        for (String host : hosts) {
            if (!known.contains(host)) {
                throw new IllegalArgumentException("unknown host " + host + ": it is neither the main nor a member"
                        + " joined to it (known: " + String.join(", ", known.stream().sorted().toList())
                        + "); join it first: a launch there with --coordinator, or a coordinator there with --join");
            }
        }
        Map<String, String> placed = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : map.entrySet()) {
            if (!parts.contains(e.getKey())) {
                throw new IllegalArgumentException("--map names an unknown part " + e.getKey() + " (parts: "
                        + String.join(", ", parts) + ")");
            }
            if (!hosts.contains(e.getValue())) {
                throw new IllegalArgumentException("--map places part " + e.getKey() + " on " + e.getValue()
                        + ", which --hosts does not name");
            }
        }
        int next = 0;
        for (String part : parts) {
            String host = map.get(part);
            if (host == null) {
                if (!map.isEmpty()) {
                    throw new IllegalArgumentException("part " + part + " is not placed: add " + part + "=HOST to --map");
                }
                host = hosts.get(next++ % hosts.size());
            }
            placed.put(part, host);
        }
        return placed;
    }
}
