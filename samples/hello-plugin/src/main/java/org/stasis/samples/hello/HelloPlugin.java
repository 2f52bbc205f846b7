package org.stasis.samples.hello;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.EventContext;
import org.stasis.api.PreCheckpointCallback;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * A plugin that takes part in every event and remembers each one. It stores how many
 * checkpoints it has seen in its records, writes the list of events as a blob, and
 * offers the shell command {@code hello:events}.
 */
@Component(property = {
        "service.ranking:Integer=10",
        "osgi.command.scope=hello",
        "osgi.command.function=events" })
@StasisPlugin("hello")
public class HelloPlugin implements PreCheckpointCallback, DrainCallback, WriteCallback, RestartCallback,
        ResumeCallback {
    private final List<String> received = new ArrayList<>();

    @Override
    public void preCheckpoint(CheckpointContext context) {
        remember(context, "");
    }

    @Override
    public void drain(CheckpointContext context) {
        remember(context, "");
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        remember(context, "");
        List<String> seen = snapshot();
        context.records().put("events-seen", Integer.toString(seen.size()));
        Files.write(context.pluginDirectory().resolve("events.txt"),
                (String.join("\n", seen) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void restart(RestartContext context) {
        remember(context, "records=" + context.records().asMap());
    }

    @Override
    public void resume(ResumeContext context) {
        remember(context, context.outcome().name().toLowerCase());
    }

    /**
     * Shell command {@code hello:events}: the events this plugin received, oldest first.
     *
     * @return one line per event
     */
    public synchronized String events() {
        return received.isEmpty() ? "no events yet" : String.join("\n", received);
    }

    private synchronized List<String> snapshot() {
        return new ArrayList<>(received);
    }

    private synchronized void remember(EventContext context, String detail) {
        String line = Instant.now() + " " + context.checkpointId() + " " + context.event().displayName()
                + (detail.isEmpty() ? "" : " " + detail);
        received.add(line);
        context.log("hello received " + context.event().displayName());
    }
}
