package org.stasis.framework.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The user's private directory of control sockets (doc/control-protocol.md):
 * {@code $STASIS_RUNTIME_DIR}, else {@code $XDG_RUNTIME_DIR/stasis}, else
 * {@code /tmp/stasis-<uid>}; mode 0700 and owned by the user, or refused.
 *
 * @param path the directory
 */
public record RuntimeDirectory(Path path) {
    /** Framework property naming the runtime directory. */
    public static final String PROPERTY = "stasis.runtime.dir";

    /**
     * @param environment the process environment
     * @param uid the user's numeric id
     * @return where this user's coordinators listen
     */
    public static RuntimeDirectory resolve(Map<String, String> environment, long uid) {
        String explicit = environment.get("STASIS_RUNTIME_DIR");
        if (explicit != null && !explicit.isEmpty()) {
            return new RuntimeDirectory(Path.of(explicit));
        }
        String xdg = environment.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) {
            return new RuntimeDirectory(Path.of(xdg, "stasis"));
        }
        return new RuntimeDirectory(Path.of("/tmp", "stasis-" + uid));
    }

    /**
     * @return the runtime directory of the user running this JVM
     * @throws IOException if the user cannot be determined
     */
    public static RuntimeDirectory forCurrentUser() throws IOException {
        return resolve(System.getenv(), currentUid());
    }

    /**
     * The runtime directory the launcher chose, passed to the bundles as the framework
     * property {@value #PROPERTY}; without it (a framework started by other means),
     * the user's default.
     *
     * @param context the bundle context to read the property from
     * @return the directory
     * @throws IOException if the user cannot be determined
     */
    public static RuntimeDirectory of(org.osgi.framework.BundleContext context) throws IOException {
        String configured = context.getProperty(PROPERTY);
        return configured == null || configured.isEmpty() ? forCurrentUser() : new RuntimeDirectory(Path.of(configured));
    }

    /**
     * @return the numeric uid of this process
     * @throws IOException if /proc cannot be read
     */
    public static int currentUid() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue();
    }

    /**
     * Creates the directory if needed and checks that it is private to the user.
     *
     * @return this
     * @throws IOException if it cannot be created or is not private, with a message that says what to do
     */
    public RuntimeDirectory ensurePrivate() throws IOException {
        if (!PrivateDirectory.create(path)) {
            throw new IOException("runtime directory " + path + " is not a directory private to "
                    + System.getProperty("user.name") + " (mode 0700); remove it or set STASIS_RUNTIME_DIR");
        }
        return this;
    }

    /**
     * @param name a coordinator's name
     * @return its control socket
     */
    public Path socket(String name) {
        return path.resolve(name + ".sock");
    }

    /**
     * @param name a coordinator's name
     * @return the socket its processes' agents connect to
     */
    public Path agentSocket(String name) {
        return path.resolve(name + ".agent.sock");
    }

    /**
     * @param name a coordinator's name
     * @return the log file of a coordinator running in the background
     */
    public Path logFile(String name) {
        return path.resolve(name + ".log");
    }
}
