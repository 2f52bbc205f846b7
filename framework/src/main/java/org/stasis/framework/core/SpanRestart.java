package org.stasis.framework.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.lifecycle.SpanOperation;
import org.stasis.framework.span.Placement;
import org.stasis.framework.span.RestartChoices;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.Manifest;

/**
 * {@code stasis restart --hosts h1,h2 [--map PART=HOST,...] CKPT} on the main
 * coordinator (doc/several-hosts.md): places every part of a checkpoint that spans
 * hosts, has each member restart the parts placed on it, restarts here the other parts
 * placed here, and gives the plan of the main's own part to the command's restorer
 * when it is placed here. Every part restarts at once (several on one host: each its
 * own restorer and pid namespace), their plugins' exchanges reaching each other.
 */
final class SpanRestart {
    private final Coordinator coordinator;

    SpanRestart(Coordinator coordinator) {
        this.coordinator = coordinator;
    }

    /**
     * {@code stasis restart --hosts h1,h2 [--map PART=HOST,...] CKPT} on the main: places
     * every part of a checkpoint that spans hosts, has each member restart the parts
     * placed on it, restarts here the other parts placed here, and returns the plan of
     * the main's own part for the command's restorer when it is placed here.
     *
     * @param checkpoint the main's checkpoint
     * @param hosts the hosts, in order
     * @param map part name to host
     * @param choices the user's --trust, --no-verify, --no-prefetch (the last two for the parts restarted
     *        by coordinators: the command's own restorer takes them from the command line)
     * @param restorerPid the pid that will run the restorer of the main's part
     * @param gone whether the client left
     * @return the plan of the main's part, or null when it is placed on another host
     * @throws Exception with one line; a wrong placement starts nothing
     */
    Path restart(Path checkpoint, List<String> hosts, Map<String, String> map, RestartChoices choices,
            long restorerPid, BooleanSupplier gone) throws Exception {
        boolean trusted = choices.trusted();
        Path parent = checkpoint.toAbsolutePath().getParent();
        CheckpointStore store = new CheckpointStore(parent == null ? coordinator.checkpointDirectory() : parent);
        Path directory = store.resolve(checkpoint);
        Manifest manifest = store.read(directory, trusted);
        if (manifest.parts().isEmpty()) {
            throw new IllegalArgumentException(checkpoint + " is a checkpoint of one host; restart it with: stasis"
                    + " restart " + checkpoint);
        }
        String mainPart = manifest.part() != null ? manifest.part() : coordinator.hostName();
        List<String> names = new java.util.ArrayList<>(List.of(mainPart));
        Map<String, String> paths = new java.util.HashMap<>(Map.of(mainPart, directory.toString()));
        for (Manifest.Part part : manifest.parts()) {
            names.add(part.name());
            paths.put(part.name(), part.path());
        }
        Map<String, String> placed = Placement.place(names, hosts, map, coordinator.members().hosts());
        for (Map.Entry<String, String> e : placed.entrySet()) {
            if (e.getValue().equals(coordinator.hostName()) && !Files.isRegularFile(Path.of(paths.get(e.getKey()))
                    .resolve("manifest.json"))) {
                throw new IllegalArgumentException("part " + e.getKey() + " is placed on " + coordinator.hostName() + " but its"
                        + " checkpoint " + paths.get(e.getKey()) + " cannot be read here; nothing was started");
            }
        }
        boolean mainHere = placed.get(mainPart).equals(coordinator.hostName());
        String whole = mainHere ? expectedComputation(manifest) : "";
        if (!whole.isEmpty()) {
            coordinator.members().expect(whole);
            // Other parts placed here beside the main's own stay parts of its computation:
            // this main holds them through its own member link, as a member would.
            if (placed.entrySet().stream().anyMatch(e -> !e.getKey().equals(mainPart)
                    && e.getValue().equals(coordinator.hostName()))) {
                coordinator.joinSelf();
            }
        }
        return restartAcross(manifest.id() + "-restart", placed, paths, mainPart, whole, choices, restorerPid, gone);
    }

    // Every part restarts at the same time (several on one host: each its own restorer), their plugins'
    // exchanges reaching each other.
    private Path restartAcross(String op, Map<String, String> placed, Map<String, String> paths, String mainPart,
            String whole, RestartChoices choices, long restorerPid, BooleanSupplier gone) throws Exception {
        Map<String, SpanOperation> here = coordinator.members().restartAcross(op, placed, paths, whole, choices,
                mainPart);
        for (Map.Entry<String, SpanOperation> e : here.entrySet()) {
            if (!e.getKey().equals(mainPart)) {
                inBackground(Path.of(paths.get(e.getKey())), choices, e.getValue());
            }
        }
        SpanOperation main = here.get(mainPart);
        if (main == null) {
            return null;
        }
        return coordinator.prepareRestartSpanning(Path.of(paths.get(mainPart)), choices.trusted(), restorerPid, gone,
                main);
    }

    // A part placed here other than the main's own: its own restorer, started by this coordinator.
    private void inBackground(Path checkpoint, RestartChoices choices, SpanOperation span) {
        Thread thread = new Thread(() -> {
            try {
                String id = coordinator.restartInBackground(checkpoint, choices, span);
                coordinator.diagnostics().info(Diagnostics.COORDINATOR, "restart", "part " + span.part() + " ("
                        + checkpoint.getFileName() + ") restarted here as computation " + id);
            } catch (Exception e) {
                coordinator.diagnostics().warning(Diagnostics.COORDINATOR, "restart", "part " + span.part() + " ("
                        + checkpoint + ") did not restart: " + e.getMessage());
            }
        }, "stasis-span-restart-" + span.part());
        thread.setDaemon(true);
        thread.start();
    }

    // The id the main's part will run under (the restart continues the checkpoint's own unless it runs).
    private String expectedComputation(Manifest manifest) {
        String wanted = manifest.computationId();
        return wanted != null && Computations.ID.matcher(wanted).matches() && !coordinator.computations().running().contains(wanted)
                ? wanted : "";
    }
}
