package org.stasis.framework.commands;

import org.stasis.framework.store.CheckpointNote;
import org.stasis.framework.control.CommandFailedException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.core.Coordinator;

/** {@code stasis note ID TEXT}: labels a checkpoint (shown by {@code stasis list} and Python's sessions()). */
@Component(service = SessionCommands.class)
@GogoCommand(scope = "stasis", function = "note")
public class SessionCommands {
    private final Coordinator coordinator;

    /** @param coordinator whose checkpoint directory holds the checkpoints */
    @Activate
    public SessionCommands(@Reference Coordinator coordinator) {
        this.coordinator = coordinator;
    }

    /**
     * @param id a checkpoint id in the coordinator's checkpoint directory
     * @param words the note
     * @return what was done
     */
    @Descriptor("give a checkpoint a note (one line), shown by 'stasis list' and Python's stasis.sessions()")
    public String note(@Descriptor("checkpoint id, e.g. default-3") String id, @Descriptor("the note") String... words) {
        if (!id.matches("[A-Za-z0-9._-]+") || id.startsWith(".")) {
            throw new IllegalArgumentException("note takes a checkpoint id such as default-3, not " + id);
        }
        Path directory = find(coordinator.checkpointDirectory(), id).orElseThrow(() -> new CommandFailedException(
                "no checkpoint " + id + " in " + coordinator.checkpointDirectory() + "; see: stasis list", null));
        try {
            CheckpointNote.write(directory, String.join(" ", words));
        } catch (IOException e) {
            throw new CommandFailedException("cannot write the note of " + id + ": " + e.getMessage(), e);
        }
        return "noted " + id;
    }

    /** @return the checkpoint's directory: in the root (older layout) or in a computation's subdirectory */
    private static java.util.Optional<Path> find(Path root, String id) {
        java.util.List<Path> candidates = new java.util.ArrayList<>(java.util.List.of(root.resolve(id)));
        try (var entries = Files.list(root)) {
            entries.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .forEach(p -> candidates.add(p.resolve(id)));
        } catch (IOException e) {
            // no root yet: no checkpoint
        }
        return candidates.stream().filter(d -> Files.isRegularFile(d.resolve("manifest.json"))).findFirst();
    }
}
