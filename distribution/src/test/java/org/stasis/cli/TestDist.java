package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;

/** The built distribution, and copies of it that a test may change. */
final class TestDist {
    /** The distribution the build made. */
    static final Path BUILT = Path.of(System.getProperty("stasis.dist", "../dist")).toAbsolutePath();

    private TestDist() {
    }

    /**
     * A copy elsewhere (its class-data archive does not apply there: it starts all the same).
     *
     * @param directory where to put it (a test's temporary directory)
     * @return the copy
     */
    static Path copyInto(Path directory) throws Exception {
        Path copy = directory.resolve("dist-" + System.nanoTime());
        Process cp = new ProcessBuilder("cp", "-r", BUILT.toString(), copy.toString()).inheritIO().start();
        assertEquals(0, cp.waitFor());
        return copy;
    }
}
