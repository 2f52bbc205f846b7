package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system bundle's package list the build writes (lib/system-packages) for the coordinator
 * to read instead of Felix building it at each start: it is exactly Felix's own, it is used,
 * and one made for another JVM is not.
 */
class SystemPackagesIT {
    private static final Path DIST = TestDist.BUILT;

    @TempDir
    Path temp;

    private Path runtime;
    private final List<StasisCli> started = new ArrayList<>();

    @BeforeEach
    void privateRuntimeDirectory() throws Exception {
        runtime = Files.createDirectory(temp.resolve("run"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    @AfterEach
    void stopWhatWasStarted() {
        for (StasisCli cli : started) {
            cli.run("shutdown", "--name", "packages");
        }
    }

    @Test
    void theBuiltListIsExactlyWhatFelixBuildsItself() throws Exception {
        assertTrue(Files.isRegularFile(DIST.resolve("lib/system-packages")), "the build wrote no list");
        Set<String> listed = exports(DIST);
        Path copy = copyOfTheDist();
        Files.delete(copy.resolve("lib/system-packages"));
        Set<String> felix = exports(copy);
        assertTrue(felix.stream().anyMatch(c -> c.startsWith("java.lang;")), felix.toString());
        assertTrue(felix.stream().anyMatch(c -> c.startsWith("jdk.net;")), felix.toString());
        assertEquals(felix, listed);
    }

    @Test
    void theListIsUsedOnTheJvmItWasMadeForOnly() throws Exception {
        Path copy = copyOfTheDist();
        Path list = copy.resolve("lib/system-packages");
        String[] lines = Files.readString(list).split("\n", 2);
        // the list of this JVM with one package more: that package is exported
        Files.writeString(list, lines[0] + "\norg.stasis.test.listed;version=\"1.0.0\"," + lines[1]);
        assertTrue(exports(copy).stream().anyMatch(c -> c.startsWith("org.stasis.test.listed;")));
        // the same list made for another JVM: Felix's own list, without that package
        Files.writeString(list, lines[0] + ".other\norg.stasis.test.listed;version=\"1.0.0\"," + lines[1]);
        Set<String> exports = exports(copy);
        assertFalse(exports.stream().anyMatch(c -> c.startsWith("org.stasis.test.listed;")), exports.toString());
        assertTrue(exports.stream().anyMatch(c -> c.startsWith("java.lang;")), exports.toString());
    }

    private Path copyOfTheDist() throws Exception {
        return TestDist.copyInto(temp);
    }

    // The system bundle's Export-Package clauses, of a coordinator of that distribution.
    private Set<String> exports(Path dist) {
        StasisCli cli = new StasisCli(runtime, dist);
        StasisCli.Result start = cli.run("coordinator", "--daemon", "--name", "packages", "--plugins",
                temp.resolve("plugins").toString());
        assertEquals(0, start.status(), start.toString());
        started.add(cli);
        StasisCli.Result headers = cli.run("exec", "--name", "packages", "headers 0");
        assertEquals(0, cli.run("shutdown", "--name", "packages").status());
        started.remove(cli);
        assertEquals(0, headers.status(), headers.toString());
        String line = headers.out().lines().filter(l -> l.startsWith("Export-Package = ")).findFirst()
                .orElseThrow(() -> new AssertionError("no Export-Package in " + headers));
        return clauses(line.substring("Export-Package = ".length()));
    }

    // Split at the commas outside quotes (uses:="a,b" holds some).
    private static Set<String> clauses(String header) {
        Set<String> clauses = new TreeSet<>();
        StringBuilder clause = new StringBuilder();
        boolean quoted = false;
        for (char c : header.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                clauses.add(clause.toString().strip());
                clause.setLength(0);
            } else {
                clause.append(c);
            }
        }
        clauses.add(clause.toString().strip());
        return clauses;
    }
}
