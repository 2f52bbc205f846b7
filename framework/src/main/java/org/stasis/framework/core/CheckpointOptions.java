package org.stasis.framework.core;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The computation's checkpoint options: named strings that plugins read during a
 * checkpoint ({@code CheckpointContext.option}) and that every checkpoint records in
 * its manifest, so that a restarted computation keeps them.
 */
public final class CheckpointOptions {
    /** Which files the file plugin saves into checkpoints (doc/file-plugin.md). */
    public static final String SAVE_FILES = "save-files";
    /** How memory images store page data: none (default) or zstd[:LEVEL] (doc/image-format.md). */
    public static final String COMPRESS = "compress";
    private static final Pattern COMPRESS_VALUE = Pattern.compile("none|zstd(:(-?[1-9]|1[0-9]))?");
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,63}");
    private static final Pattern SAVE_FILES_VALUE = Pattern.compile(
            "none|auto|auto:[0-9]+[KMG]?|[^,\\s]+(,[^,\\s]+)*");
    private final Map<String, String> values = new TreeMap<>();

    /**
     * Sets an option, or removes it when {@code value} is empty.
     *
     * @param name the option's name
     * @param value its value
     * @throws IllegalArgumentException if the name or a known option's value is malformed
     */
    public synchronized void set(String name, String value) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("an option name is lower-case letters, digits and '-', not '" + name + "'");
        }
        if (value.isEmpty()) {
            values.remove(name);
            return;
        }
        if (name.equals(SAVE_FILES) && !SAVE_FILES_VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException("--save-files takes none, auto, auto:SIZE (e.g. auto:512M) or "
                    + "GLOB,GLOB... (absolute paths, no spaces), not '" + value + "'");
        }
        if (name.equals(COMPRESS) && !COMPRESS_VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException("--compress takes none, zstd or zstd:LEVEL (LEVEL -9..19, default 1), not '"
                    + value + "'");
        }
        values.put(name, value);
    }

    /** Takes over the options a checkpoint recorded (at its restart). */
    public synchronized void adopt(Map<String, String> recorded) {
        recorded.forEach((name, value) -> {
            if (NAME.matcher(name).matches()) {
                values.put(name, value);
            }
        });
    }

    /** @return a snapshot */
    public synchronized Map<String, String> asMap() {
        return Map.copyOf(values);
    }
}
