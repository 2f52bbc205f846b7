package org.stasis.plugin.pid;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.RestartPlan.PidStrategy;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * Decides how restored processes get their pids. By default a restart runs in a
 * fresh user and pid namespace where every process and thread gets its original
 * pid and tid back (no privilege needed, no clash with a still-running original).
 * Where user namespaces are unavailable, it restarts with new pids and says so; the
 * agent then patches the tids glibc caches.
 */
@Component(property = "service.ranking:Integer=1000")
@StasisPlugin("pid")
public class PidPlugin implements WriteCallback, RestartCallback {
    /** Environment variable that forces restarts without namespaces (for tests and odd kernels). */
    static final String NO_NAMESPACES = "STASIS_NO_NAMESPACES";

    @Override
    public void write(CheckpointContext context) {
        for (ProcessInfo process : context.computation().processes()) {
            context.records().put("namespaced." + process.pid(), Boolean.toString(process.pid() != process.hostPid()));
        }
    }

    @Override
    public void restart(RestartContext context) {
        String reason = namespacesUnavailable();
        if (reason == null) {
            context.plan().pidStrategy(PidStrategy.KEEP_PIDS);
        } else {
            context.plan().pidStrategy(PidStrategy.NEW_PIDS);
            context.log("restarting with new pids: " + reason);
        }
    }

    /** @return why namespaces cannot be used, or null if they can */
    static String namespacesUnavailable() {
        if ("1".equals(System.getenv(NO_NAMESPACES))) {
            return NO_NAMESPACES + "=1";
        }
        if (readNumber(Path.of("/proc/sys/user/max_user_namespaces"), 1) == 0) {
            return "user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)";
        }
        if (readNumber(Path.of("/proc/sys/kernel/unprivileged_userns_clone"), 1) == 0) {
            return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)";
        }
        return null;
    }

    private static long readNumber(Path file, long fallback) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return fallback;
        }
    }
}
