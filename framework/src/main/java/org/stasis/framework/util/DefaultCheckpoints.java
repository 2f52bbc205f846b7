package org.stasis.framework.util;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where checkpoints go when nobody said: {@code $XDG_DATA_HOME/stasis/checkpoints}, else
 * {@code $HOME/.local/share/stasis/checkpoints}. The environment wins over the account's
 * home directory (Java's {@code user.home}, from the password database) because that is
 * what the user's shell, the CLI and every other tool mean by {@code ~}: two users of one
 * account with different {@code HOME}s, or hosts simulated on one machine, keep apart.
 */
public final class DefaultCheckpoints {
    private DefaultCheckpoints() {
    }

    /** @return the default checkpoint directory for this process's environment */
    public static Path directory() {
        return directory(System.getenv(), System.getProperty("user.home"));
    }

    static Path directory(Map<String, String> env, String accountHome) {
        String data = env.get("XDG_DATA_HOME");
        if (data != null && data.startsWith("/")) {
            return Path.of(data, "stasis", "checkpoints");
        }
        String home = env.get("HOME");
        return Path.of(home != null && home.startsWith("/") ? home : accountHome, ".local", "share", "stasis",
                "checkpoints");
    }
}
