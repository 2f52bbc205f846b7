package org.stasis.framework.store;

import java.util.Comparator;
import java.util.regex.Pattern;

/**
 * Computation ids as the store sees them: each computation's checkpoints live in a
 * subdirectory of the checkpoint directory named by its id ({@code D/c1/}).
 */
public final class ComputationIds {
    /** What a computation id may look like (the agent takes the same). */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,63}");
    /** Ids ordered as people count: c2 before c10. */
    public static final Comparator<String> ORDER = Comparator.comparingInt(String::length)
            .thenComparing(Comparator.naturalOrder());

    private ComputationIds() {
    }
}
