package org.stasis.framework.lifecycle;

import java.util.List;

import org.stasis.api.CheckpointContext;
import org.stasis.api.DrainCallback;
import org.stasis.api.PreCheckpointCallback;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.WriteCallback;

/** A test plugin that appends "id:event" to a shared journal and can be told to fail. */
final class RecordingPlugin implements PreCheckpointCallback, DrainCallback, WriteCallback, RestartCallback,
        ResumeCallback {
    final String id;
    private final List<String> journal;
    String failIn = "";
    String lastOutcome = "";

    RecordingPlugin(String id, List<String> journal) {
        this.id = id;
        this.journal = journal;
    }

    private void note(String event) {
        journal.add(id + ":" + event);
        if (failIn.equals(event)) {
            throw new IllegalStateException(id + " refuses " + event);
        }
    }

    @Override
    public void preCheckpoint(CheckpointContext context) {
        note("preCheckpoint");
    }

    @Override
    public void drain(CheckpointContext context) {
        note("drain");
    }

    @Override
    public void write(CheckpointContext context) {
        context.records().put("written-by", id);
        note("write");
    }

    @Override
    public void restart(RestartContext context) {
        note("restart");
        context.plan().setEnvironment("SEEN_" + id, context.records().get("written-by").orElse("none"));
    }

    @Override
    public void resume(ResumeContext context) {
        lastOutcome = context.outcome().name();
        note("resume");
    }
}
