package org.stasis.plugin.ipythonconfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import org.stasis.api.OpenFd;

/**
 * Tells whether a process is IPython, a Jupyter kernel or part of ipyparallel, and which
 * of its files it needs to come back: the profile directory (config, startup/,
 * history.sqlite, security/), JUPYTER_CONFIG_DIR, and the kernel's connection file.
 */
final class ProfileFinder {
    private static final Pattern PROGRAM = Pattern.compile(
            "(ipython\\d*|ipkernel|ipengine|ipcontroller|ipcluster|jupyter.*)");
    private static final Pattern MODULE = Pattern.compile("(IPython|ipykernel.*|ipyparallel.*|jupyter.*)(\\..*)?");

    private ProfileFinder() {
    }

    /** @return whether the command line or the environment says IPython or Jupyter */
    static boolean isIPython(ProcessView process, List<OpenFd> fds) {
        List<String> argv = process.argv();
        for (int i = 0; i < Math.min(argv.size(), 3); i++) {
            String name = Path.of(argv.get(i)).getFileName() == null ? "" : Path.of(argv.get(i)).getFileName().toString();
            if (PROGRAM.matcher(name).matches()) {
                return true;
            }
        }
        int module = argv.indexOf("-m");
        if (module >= 0 && module + 1 < argv.size() && MODULE.matcher(argv.get(module + 1)).matches()) {
            return true;
        }
        return process.environment().containsKey("IPYTHONDIR")
                || process.environment().keySet().stream().anyMatch(k -> k.startsWith("JUPYTER_"))
                || fds.stream().anyMatch(fd -> fd.path().endsWith("/history.sqlite"));
    }

    /** @return the existing directories and files to save for this process, absolute */
    static Set<Path> roots(ProcessView process, List<OpenFd> fds) {
        Set<Path> roots = new LinkedHashSet<>();
        for (OpenFd fd : fds) {                       // the history it writes names its profile
            if (fd.kind() == OpenFd.Kind.PATH && fd.path().endsWith("/history.sqlite")) {
                roots.add(Path.of(fd.path()).getParent());
            }
        }
        roots.add(profileDirectory(process));
        String jupyterConfig = process.environment().get("JUPYTER_CONFIG_DIR");
        if (jupyterConfig != null && Path.of(jupyterConfig).isAbsolute()) {
            roots.add(Path.of(jupyterConfig));
        }
        String connection = process.option("-f");
        if (connection == null) {
            connection = process.option("--existing");
        }
        if (connection != null && Path.of(connection).isAbsolute()) {
            roots.add(Path.of(connection));
        }
        roots.removeIf(p -> p == null || !Files.exists(p));
        return roots;
    }

    private static Path profileDirectory(ProcessView process) {
        String dir = process.option("--profile-dir");
        if (dir == null) {
            dir = process.option("--ProfileDir.location");
        }
        if (dir != null) {
            return Path.of(dir).isAbsolute() ? Path.of(dir) : null;
        }
        String profile = process.option("--profile");
        String base = process.environment().get("IPYTHONDIR");
        if (base == null) {
            String home = process.environment().get("HOME");
            base = home == null ? null : home + "/.ipython";
        }
        if (base == null || !Path.of(base).isAbsolute()) {
            return null;
        }
        return Path.of(base, "profile_" + (profile == null ? "default" : profile));
    }
}
