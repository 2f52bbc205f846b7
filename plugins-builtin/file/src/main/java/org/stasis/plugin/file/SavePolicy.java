package org.stasis.plugin.file;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which open files a checkpoint saves, from the {@code save-files} option:
 * {@code none} (the default), {@code auto} (regular files open for writing, except
 * ones opened O_APPEND, up to {@link #DEFAULT_LIMIT} bytes in all, or {@code auto:SIZE}),
 * or {@code GLOB,GLOB...} (open regular files whose path matches, whatever their mode).
 *
 * @param mode the option as the user gave it
 * @param auto whether {@code auto}
 * @param limit the most bytes saved in all ({@code Long.MAX_VALUE} for globs)
 * @param globs the path matchers of a glob list
 */
record SavePolicy(String mode, boolean auto, long limit, List<PathMatcher> globs) {
    static final long DEFAULT_LIMIT = 256L << 20;
    static final int O_ACCMODE = 3;
    static final int O_WRONLY = 1;
    static final int O_APPEND = 02000;

    static SavePolicy parse(String option) {
        String mode = option == null || option.isBlank() ? "none" : option.strip();
        if (mode.equals("none")) {
            return new SavePolicy(mode, false, 0, List.of());
        }
        if (mode.equals("auto")) {
            return new SavePolicy(mode, true, DEFAULT_LIMIT, List.of());
        }
        if (mode.startsWith("auto:")) {
            return new SavePolicy(mode, true, size(mode.substring(5)), List.of());
        }
        List<PathMatcher> globs = new ArrayList<>();
        for (String glob : mode.split(",")) {
            globs.add(FileSystems.getDefault().getPathMatcher("glob:" + glob));
        }
        return new SavePolicy(mode, false, Long.MAX_VALUE, List.copyOf(globs));
    }

    private static long size(String text) {
        String t = text.toUpperCase(Locale.ROOT);
        int shift = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        try {
            return Long.parseLong(digits) << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--save-files auto:SIZE takes a size such as 512M, not '" + text + "'");
        }
    }

    boolean none() {
        return !auto && globs.isEmpty();
    }

    /**
     * @param path an open regular file's path
     * @param flags the descriptor's flags
     * @return whether this policy wants it saved (before the size limit)
     */
    boolean wants(Path path, int flags) {
        if (auto) {
            return writing(flags) && (flags & O_APPEND) == 0;
        }
        return globs.stream().anyMatch(g -> g.matches(path));
    }

    /** @return whether a descriptor with these flags can write */
    static boolean writing(int flags) {
        return (flags & O_ACCMODE) != 0;
    }

    /** @return whether a descriptor appends (O_APPEND) to a file that only grew from {@code before} to {@code now} */
    static boolean appendedTo(int flags, long before, long now) {
        return (flags & O_APPEND) != 0 && now >= before;
    }

    /** @return whether a descriptor with these flags is write-only and not appending: a stream such as {@code >} */
    static boolean writeOnlyStream(int flags) {
        return (flags & O_ACCMODE) == O_WRONLY && (flags & O_APPEND) == 0;
    }
}
