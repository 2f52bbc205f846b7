package org.stasis.framework.commands;

import org.stasis.framework.control.CommandFailedException;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.core.Coordinator;

/** The {@code option} command: the computation's checkpoint options, such as {@code save-files}. */
@Component(service = OptionCommands.class)
@GogoCommand(scope = "stasis", function = "option")
public class OptionCommands {
    private final Coordinator coordinator;

    /** @param coordinator whose options the command shows and sets */
    @Activate
    public OptionCommands(@Reference Coordinator coordinator) {
        this.coordinator = coordinator;
    }

    /**
     * @param args nothing (list), NAME (show), or NAME VALUE (set; an empty VALUE removes it)
     * @return the option(s)
     */
    @Descriptor("show or set checkpoint options, recorded in every checkpoint: 'option save-files auto' "
            + "(none | auto | auto:SIZE | GLOB,GLOB...)")
    public String option(@Descriptor("[NAME [VALUE]]") String... args) {
        if (args.length > 2) {
            throw new IllegalArgumentException("option takes NAME and VALUE at most");
        }
        if (args.length == 2) {
            try {
                coordinator.options().set(args[0], args[1]);
            } catch (IllegalArgumentException e) {
                throw new CommandFailedException(e.getMessage(), e);
            }
        }
        Map<String, String> all = coordinator.options().asMap();
        if (args.length >= 1) {
            return args[0] + " " + all.getOrDefault(args[0], "(not set)");
        }
        return all.isEmpty() ? "no options set" : all.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining("\n"));
    }
}
