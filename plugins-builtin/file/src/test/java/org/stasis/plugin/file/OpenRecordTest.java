package org.stasis.plugin.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.OpenFd;

class OpenRecordTest {
    @TempDir
    Path temp;

    @Test
    void survivesEncodingWithSpacesInThePath() throws Exception {
        Path file = Files.writeString(temp.resolve("my log.txt"), "hello");
        OpenRecord record = OpenRecord.of(new OpenFd(5, file.toString(), 02101, 5), file);

        OpenRecord decoded = OpenRecord.decode(record.encode());

        assertEquals(record, decoded);
        assertEquals(file.toString(), decoded.path());
        assertEquals(5, decoded.size());
    }

    @Test
    void reportsAFileThatShrankBelowTheOffset() throws Exception {
        Path file = Files.writeString(temp.resolve("data"), "0123456789");
        OpenRecord record = OpenRecord.of(new OpenFd(3, file.toString(), 0, 8), file);
        Files.writeString(file, "012");

        String change = record.describeChange(Files.readAttributes(file, BasicFileAttributes.class));

        assertTrue(change.contains("size 10 -> 3"), change);
        assertTrue(change.contains("shorter than the program's offset 8"), change);
    }

    @Test
    void anUnchangedFileIsNotReported() throws Exception {
        Path file = Files.writeString(temp.resolve("data"), "same");
        OpenRecord record = OpenRecord.of(new OpenFd(3, file.toString(), 0, 0), file);

        assertEquals("", record.describeChange(Files.readAttributes(file, BasicFileAttributes.class)));
    }
}
