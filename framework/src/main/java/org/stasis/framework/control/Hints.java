package org.stasis.framework.control;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hints in messages ("start one with: stasis launch -- PROGRAM") name the
 * coordinator the user talks to when it is not the default one, so that they can be
 * run as they are.
 */
final class Hints {
    private static final Pattern HINT = Pattern.compile(
            "\\bstasis (launch|restart|list|status|checkpoint|exec|ckptdir|kill|verify|note|events)\\b(?! --name)");

    private Hints() {
    }

    /**
     * @param message a message that may hold hints
     * @param name the coordinator's name
     * @return the message with {@code --name NAME} in each hint, unless the name is the default
     */
    static String named(String message, String name) {
        if (name == null || name.isEmpty() || name.equals("default")) {
            return message;
        }
        return HINT.matcher(message).replaceAll(m -> Matcher.quoteReplacement(m.group() + " --name " + name));
    }
}
