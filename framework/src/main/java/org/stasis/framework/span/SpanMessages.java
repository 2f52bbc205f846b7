package org.stasis.framework.span;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** An operation across hosts on the main, hearing its members' messages. */
interface SpanMessages {
    /**
     * @param from the member
     * @param message a message of the operation
     */
    void message(Members.Member from, ObjectNode message);

    /**
     * @param member a member whose link was lost
     * @param why one line
     */
    void lost(Members.Member member, String why);
}
