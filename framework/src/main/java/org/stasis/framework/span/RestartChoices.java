package org.stasis.framework.span;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What the user chose for {@code stasis restart --hosts}, which the restart of every
 * part applies on whichever host it runs, not only the main's own part in the command's
 * foreground: {@code --trust}, and the restorer's {@code --no-verify} and
 * {@code --no-prefetch}. Sent with the member link's {@code restart} message (fields
 * {@code trusted}, {@code verify}, {@code prefetch}; a main that sends none of the last
 * two means the defaults).
 *
 * @param trusted restart a foreign checkpoint
 * @param verify check every stored page against its checksum before the part runs
 * @param prefetch page the image in in the background once the part runs
 */
public record RestartChoices(boolean trusted, boolean verify, boolean prefetch) {
    /** A plain restart: the checkpoint must be the user's own; pages checked and prefetched. */
    public static final RestartChoices PLAIN = new RestartChoices(false, true, true);

    /** @return the options of {@code stasis-restore} before the plan */
    public List<String> restorerOptions() {
        List<String> options = new ArrayList<>();
        if (!verify) {
            options.add("--no-verify");
        }
        if (!prefetch) {
            options.add("--no-prefetch");
        }
        return options;
    }

    void write(ObjectNode message) {
        message.put("trusted", trusted);
        message.put("verify", verify);
        message.put("prefetch", prefetch);
    }

    static RestartChoices read(JsonNode message) {
        return new RestartChoices(message.path("trusted").asBoolean(false), message.path("verify").asBoolean(true),
                message.path("prefetch").asBoolean(true));
    }
}
