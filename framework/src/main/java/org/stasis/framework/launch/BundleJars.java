package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The distribution's bundle jars, in the groups the launcher starts them in (by file name,
 * which the distribution's build sets): the infrastructure, Stasis's API and core, the
 * built-in plugins, and the shell, which starts last. Each group is in file-name order.
 *
 * @param infrastructure the libraries and services everything else uses (DS, Config Admin,
 *        FileInstall, Gogo's runtime and commands, Jackson, JNA, OSGi utilities) and Stasis's
 *        plugin API: FileInstall installs the plugins folder's bundles as soon as it starts, and
 *        they must find the API they import
 * @param core Stasis's framework bundle
 * @param plugins the built-in plugins
 * @param last the Gogo shell
 */
record BundleJars(List<Path> infrastructure, List<Path> core, List<Path> plugins, List<Path> last) {
    private static final String SHELL = "org.apache.felix.gogo.shell.jar";
    private static final String PLUGIN_PREFIX = "org.stasis.plugin.";
    private static final String STASIS_PREFIX = "org.stasis.";
    private static final String API = "org.stasis.api.jar";

    /**
     * @param directory the distribution's bundles folder
     * @return its jars, grouped
     * @throws IOException if the folder cannot be listed
     */
    static BundleJars in(Path directory) throws IOException {
        List<Path> jars;
        try (Stream<Path> files = Files.list(directory)) {
            jars = files.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
        List<Path> infrastructure = new ArrayList<>();
        List<Path> core = new ArrayList<>();
        List<Path> plugins = new ArrayList<>();
        List<Path> last = new ArrayList<>();
        for (Path jar : jars) {
            String name = jar.getFileName().toString();
            if (name.equals(SHELL)) {
                last.add(jar);
            } else if (name.startsWith(PLUGIN_PREFIX)) {
                plugins.add(jar);
            } else if (name.startsWith(STASIS_PREFIX) && !name.equals(API)) {
                core.add(jar);
            } else {
                infrastructure.add(jar);
            }
        }
        return new BundleJars(List.copyOf(infrastructure), List.copyOf(core), List.copyOf(plugins), List.copyOf(last));
    }
}
