package org.stasis.plugin.ipythonconfig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A process's command line and environment, as /proc shows them to the coordinator
 * (same user).
 *
 * @param argv the arguments, argv[0] first
 * @param environment the environment at exec time
 */
record ProcessView(List<String> argv, Map<String, String> environment) {

    /** Reads /proc/HOSTPID/cmdline and environ under {@code proc}; empty if gone. */
    static ProcessView read(Path proc, int hostPid) {
        Path dir = proc.resolve(Integer.toString(hostPid));
        List<String> argv = split(dir.resolve("cmdline"));
        Map<String, String> env = new HashMap<>();
        for (String entry : split(dir.resolve("environ"))) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                env.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        return new ProcessView(argv, env);
    }

    private static List<String> split(Path file) {
        List<String> parts = new ArrayList<>();
        try {
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            for (String part : text.split("\0")) {
                if (!part.isEmpty()) {
                    parts.add(part);
                }
            }
        } catch (IOException gone) {
            // the process ended or hides it: nothing known
        }
        return parts;
    }

    /** @return the value of {@code --NAME=V} or {@code --NAME V} on the command line, or null */
    String option(String name) {
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.startsWith(name + "=")) {
                return arg.substring(name.length() + 1);
            }
            if (arg.equals(name) && i + 1 < argv.size()) {
                return argv.get(i + 1);
            }
        }
        return null;
    }
}
