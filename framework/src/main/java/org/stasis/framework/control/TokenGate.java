package org.stasis.framework.control;

import java.util.HashMap;
import java.util.Map;

/**
 * Checks the token line of TCP connections and slows down guessing: a connection with
 * a wrong or missing token is held open (without an answer) for a delay that doubles
 * with every failure of its source (remote address), up to {@link #MAX_DELAY_MS}, and
 * only then closed. A right token is admitted at once, so guessers from the same
 * address never delay a token holder. A source without failures for a minute starts over.
 */
final class TokenGate {
    static final String TOKEN_PREFIX = "TOKEN ";
    static final long FIRST_DELAY_MS = 250;
    static final long MAX_DELAY_MS = 5_000;
    private static final long FORGET_MS = 60_000;
    private static final int MAX_SOURCES = 4096;

    /** The outcome of a token line. */
    enum Verdict { ADMITTED, MISSING, WRONG }

    private record Penalty(int failures, long lastFailure) {
    }

    private final TokenFile token;
    private final Map<String, Penalty> penalties = new HashMap<>();

    TokenGate(TokenFile token) {
        this.token = token;
    }

    /**
     * @param source the remote address
     * @param now the current time in milliseconds
     * @return until when a refused connection of the source is held before it is closed; at most {@code now} if none
     */
    long notBefore(String source, long now) {
        Penalty penalty = penalties.get(source);
        if (penalty == null) {
            return now;
        }
        if (now - penalty.lastFailure() > FORGET_MS) {
            penalties.remove(source);
            return now;
        }
        long delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS << Math.min(penalty.failures() - 1, 16));
        return penalty.lastFailure() + delay;
    }

    /**
     * @param source the remote address
     * @param line the connection's first line, without its newline
     * @param now the current time in milliseconds
     * @return the verdict; a failure is remembered against the source
     */
    Verdict check(String source, String line, long now) {
        Verdict verdict = !line.startsWith(TOKEN_PREFIX) ? Verdict.MISSING
                : token.matches(line.substring(TOKEN_PREFIX.length()).strip()) ? Verdict.ADMITTED : Verdict.WRONG;
        if (verdict != Verdict.ADMITTED) {
            if (penalties.size() >= MAX_SOURCES) {
                penalties.clear();
            }
            Penalty old = penalties.get(source);
            penalties.put(source, new Penalty(old == null ? 1 : old.failures() + 1, now));
        }
        return verdict;
    }
}
