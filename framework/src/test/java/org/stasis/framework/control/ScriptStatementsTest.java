package org.stasis.framework.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class ScriptStatementsTest {
    @Test
    void oneStatementPerLineSkippingBlanksAndComments() {
        assertEquals(List.of("stasis:version", "stasis:plugins --json"),
                ScriptStatements.split("# check\nstasis:version\n\n  # more\nstasis:plugins --json\n"));
    }

    @Test
    void openBracesContinueOntoFollowingLines() {
        assertEquals(List.of("each [1 2] {\n  echo $it\n}", "stasis:version"),
                ScriptStatements.split("each [1 2] {\n  echo $it\n}\nstasis:version"));
    }

    @Test
    void bracesInsideQuotesDoNotCount() {
        assertEquals(List.of("echo '{'", "echo \"(\\\"\""), ScriptStatements.split("echo '{'\necho \"(\\\"\"\n"));
    }
}
