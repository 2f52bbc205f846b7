package org.stasis.framework.control;

import java.util.List;

/**
 * Bounds on what one EXEC may ask of the Gogo parser and the coordinator: nesting of
 * {@code $(...)}, {@code {}} and {@code []} (each level may cost a thread and stack), and
 * the number of statements. A script over a bound is refused before it runs.
 */
final class ScriptLimits {
    /** Deepest nesting of brackets a script may use. */
    static final int MAX_NESTING = 32;
    /** Most statements one script may hold. */
    static final int MAX_STATEMENTS = 10_000;

    private ScriptLimits() {
    }

    /**
     * @param script the script as received
     * @return null if it may run, else one line saying why not
     */
    static String refusal(String script) {
        int depth = nesting(script);
        if (depth > MAX_NESTING) {
            return "script nests brackets " + depth + " deep, more than the limit of " + MAX_NESTING
                    + "; flatten it";
        }
        return null;
    }

    /**
     * @param statements the script's statements
     * @return null if there are few enough, else one line saying why not
     */
    static String refusal(List<String> statements) {
        if (statements.size() > MAX_STATEMENTS) {
            return "script has " + statements.size() + " statements, more than the limit of " + MAX_STATEMENTS
                    + "; split it";
        }
        return null;
    }

    // Deepest bracket nesting outside single quotes (Gogo expands $(...) inside double quotes).
    static int nesting(String script) {
        int depth = 0;
        int deepest = 0;
        boolean quoted = false;
        for (int i = 0; i < script.length(); i++) {
            char c = script.charAt(i);
            if (quoted) {
                quoted = c != '\'';
            } else if (c == '\'') {
                quoted = true;
            } else if (c == '\\') {
                i++;
            } else if (c == '{' || c == '(' || c == '[') {
                deepest = Math.max(deepest, ++depth);
            } else if (c == '}' || c == ')' || c == ']') {
                depth = Math.max(0, depth - 1);
            }
        }
        return deepest;
    }
}
