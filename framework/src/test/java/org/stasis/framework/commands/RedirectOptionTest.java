package org.stasis.framework.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedirectOptionTest {
    @TempDir
    Path dir;

    private String error(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RedirectOption.parse(value));
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void linesBecomeRedirectsInOrder() throws IOException {
        Path b = Files.createDirectory(dir.resolve("b"));
        Path d = Files.createDirectory(dir.resolve("d"));
        Map<Path, Path> r = RedirectOption.parse("/gone/a=" + b + "\t/gone/c/=" + d + "\t");
        assertEquals(Map.of(Path.of("/gone/a"), b, Path.of("/gone/c"), d), r);
        assertEquals(Map.of(), RedirectOption.parse(""));
    }

    @Test
    void badInputIsOneLineEach() throws IOException {
        Path b = Files.createDirectory(dir.resolve("b"));
        Path file = Files.writeString(dir.resolve("f"), "x");
        Path a = Files.createDirectory(dir.resolve("a"));
        assertTrue(error("nothing").contains("OLD=NEW"));
        assertTrue(error("rel=" + b).contains("absolute"));
        assertTrue(error("/x=" + dir.resolve("missing")).contains("does not exist"));
        assertTrue(error(a + "=" + file).contains("not a directory"));
        assertTrue(error(a + "=" + b + "\t" + b + "=" + a).contains("loop"));
        assertTrue(error("/x=" + b + "\t" + b + "=" + a).contains("loop"));
    }
}
