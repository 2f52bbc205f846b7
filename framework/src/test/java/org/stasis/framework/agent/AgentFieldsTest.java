package org.stasis.framework.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Path fields of the agent protocol, as native/agent/rawio.c escapes them. */
class AgentFieldsTest {
    @Test
    void aNewlineAndBackslashesComeBackAsTheyWere() {
        assertEquals("/tmp/evil\nFD 77 0 0 shadow", Agent.unescape("/tmp/evil\\nFD 77 0 0 shadow"));
        assertEquals("/tmp/back\\slash\\n", Agent.unescape("/tmp/back\\\\slash\\\\n"));
        assertEquals("/plain/path with spaces", Agent.unescape("/plain/path with spaces"));
    }
}
