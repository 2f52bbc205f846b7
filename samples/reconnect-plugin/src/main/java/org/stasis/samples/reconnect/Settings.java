package org.stasis.samples.reconnect;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The configuration, parsed once when it changes rather than at every checkpoint.
 *
 * @param services the configured services
 * @param connectTimeout how long a reconnect may wait
 * @param problems entries that could not be read, reported in the event log at each
 *        checkpoint so that a typo does not go unnoticed
 */
record Settings(List<Endpoint> services, Duration connectTimeout, List<String> problems) {
    Settings {
        services = List.copyOf(services);
        problems = List.copyOf(problems);
    }

    /**
     * @param values the {@code services} property: entries, or lists of them separated
     *        by commas or white space
     * @param connectTimeoutMillis the connect timeout; at least 1 ms is used
     * @return the settings; entries that do not parse are left out and named in
     *         {@link #problems()}
     */
    static Settings of(String[] values, int connectTimeoutMillis) {
        List<Endpoint> services = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String value : values) {
            for (String entry : value.split("[,\\s]+")) {
                if (entry.isEmpty()) {
                    continue;
                }
                try {
                    services.add(Endpoint.parse(entry));
                } catch (IllegalArgumentException e) {
                    problems.add("ignoring services entry: " + e.getMessage());
                }
            }
        }
        return new Settings(services, Duration.ofMillis(Math.max(1, connectTimeoutMillis)), problems);
    }

    /**
     * @param config the component's configuration
     * @return the settings
     */
    static Settings of(ReconnectConfig config) {
        return of(config.services(), config.connect_timeout_ms());
    }

    /**
     * @param peer a connection's peer
     * @return whether it is one of the configured services
     */
    boolean isService(Endpoint peer) {
        return services.contains(peer);
    }
}
