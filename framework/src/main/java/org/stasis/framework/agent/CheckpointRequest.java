package org.stasis.framework.agent;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A program asked for a checkpoint of its computation ({@code stasis_checkpoint()}).
 *
 * @param hostPid the requesting process, as the host sees it
 * @param sequence what the agent sent as {@code seq=}: {@link Agent#decline} gives it
 *        back if the checkpoint never came, so that only that request is woken; -1 if
 *        the agent sent none
 */
public record CheckpointRequest(int hostPid, long sequence) {
    private static final Pattern SEQUENCE = Pattern.compile("\\bseq=(\\d{1,18})\\b");

    static CheckpointRequest parse(int hostPid, String line) {
        Matcher m = SEQUENCE.matcher(line);
        return new CheckpointRequest(hostPid, m.find() ? Long.parseLong(m.group(1)) : -1);
    }
}
