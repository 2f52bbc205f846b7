import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.felix.framework.Logger;
import org.apache.felix.framework.util.Util;

/**
 * Usage: java -cp org.apache.felix.framework.jar:CLASSES SystemPackages OUT
 *
 * <p>Writes the packages Felix's system bundle exports on this JVM when it is given none
 * (org.osgi.framework.system.packages): the OSGi framework's own and every package the JDK's
 * modules export, by Felix's own rules and helpers (Felix 7's ExtensionManager, with
 * felix.systempackages.calculate.uses off, as the coordinator runs it). Felix builds that list at
 * each start (a few hundred string substitutions, ~15 ms of CPU); the coordinator reads it
 * from OUT instead, but only on the JVM it was made for: OUT's first line says which
 * (java.home, java.vm.version, size of Felix's jar), the second is the list.
 */
public final class SystemPackages {
    private SystemPackages() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Path felixJar = Path.of(args[1]);
        Logger logger = new Logger();
        Properties defaults = new Properties();
        defaults.putAll(Util.loadDefaultProperties(logger));
        Util.initializeJPMSEE(System.getProperty("java.specification.version"), defaults, logger);
        Map<String, Set<String>> exports = Util.initializeJPMS(defaults);
        if (exports != null) {
            for (Map.Entry<String, Set<String>> module : exports.entrySet()) {
                String key = module.getKey();
                String name = key.contains("@") ? key.substring(0, key.indexOf('@')) : key;
                if (System.getProperty(name) != null || module.getValue().isEmpty()
                        || defaults.getProperty(name) != null) {
                    continue;
                }
                StringBuilder packages = new StringBuilder();
                for (String pkg : module.getValue()) {
                    packages.append(',').append(pkg).append(";version=\"")
                            .append(defaults.getProperty("felix.detect.java.version")).append('"');
                }
                defaults.put(name, packages.toString());
            }
        }
        String packages = Util.getPropertyWithSubs(defaults, "org.osgi.framework.system.packages");
        String stamp = System.getProperty("java.home") + " " + System.getProperty("java.vm.version") + " "
                + Files.size(felixJar);
        Files.writeString(out, stamp + "\n" + packages.replace('\n', ' ') + "\n");
    }
}
