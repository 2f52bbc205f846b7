package org.stasis.framework.control;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a Gogo script into the statements a user would type one by one: one per
 * line, except that a line with an open brace, bracket or parenthesis continues until
 * it is closed. Blank lines and lines starting with '#' are skipped. This lets
 * {@code stasis exec -f} print every command's result, as a shell script would.
 */
final class ScriptStatements {
    private ScriptStatements() {
    }

    static List<String> split(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        int depth = 0;
        for (String line : script.split("\n", -1)) {
            if (depth == 0 && (line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            current.append(line).append('\n');
            depth += nesting(line);
            if (depth <= 0) {
                statements.add(current.toString().strip());
                current.setLength(0);
                depth = 0;
            }
        }
        if (!current.toString().isBlank()) {
            statements.add(current.toString().strip());
        }
        return statements;
    }

    // Net count of opening minus closing brackets outside quotes.
    private static int nesting(String line) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '{' || c == '(' || c == '[') {
                depth++;
            } else if (c == '}' || c == ')' || c == ']') {
                depth--;
            }
        }
        return depth;
    }
}
