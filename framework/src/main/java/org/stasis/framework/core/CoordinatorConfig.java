package org.stasis.framework.core;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.stasis.framework.agent.AgentCore;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the coordinator (Configuration Admin pid {@code org.stasis.coordinator}). */
@ObjectClassDefinition(name = "Stasis coordinator", description = "How the coordinator runs: every property applies as soon as the file changes.")
public @interface CoordinatorConfig {
    /** @return seconds one plugin may spend on one event before it is cut off and the operation aborted */
    @AttributeDefinition(name = "Plugin timeout (s)", min = "1")
    int plugin_timeout_seconds() default 60;

    /** @return how many event log entries to keep */
    @AttributeDefinition(name = "Event log size", min = "10")
    int event_log_size() default 2000;

    /** @return seconds between interval checkpoints, 0 for none ({@code interval}) */
    @AttributeDefinition(name = "Interval (s)", min = "0")
    long interval() default 0;

    /** @return how many checkpoints to keep, 0 for all ({@code keep}) */
    @AttributeDefinition(name = "Checkpoints kept", min = "0")
    int keep() default 0;

    /** @return where checkpoints are written ({@code ckpt.dir}); empty: the command line's or the default */
    @AttributeDefinition(name = "Checkpoint directory")
    String ckpt_dir() default "";

    /**
     * @return seconds a coordinator started by {@code stasis launch} or {@code restart} stays after
     *         its last computation ended ({@code idle.exit.seconds}); 0: it stays until shutdown
     */
    @AttributeDefinition(name = "Idle exit (s)", min = "0")
    int idle_exit_seconds() default 5;

    /** @return the {@code save-files} checkpoint option ({@code save.files}); empty: unchanged */
    @AttributeDefinition(name = "Save files")
    String save_files() default "";

    /**
     * @return whether the newest checkpoint's images are read into the page cache in the background
     *         once it is published ({@code warm.cache}), so a restart soon after reads them from memory
     */
    @AttributeDefinition(name = "Warm the page cache")
    boolean warm_cache() default true;

    /**
     * @return resident memory (MiB) from which a process's image is written by a copy-on-write
     *         snapshot while the program runs on ({@code snapshot.min.mib}); a smaller one is written
     *         in the pause; 0: always a snapshot
     */
    @AttributeDefinition(name = "Snapshot from (MiB)", min = "0")
    long snapshot_min_mib() default AgentCore.DEFAULT_SNAPSHOT_FROM >> 20;
}
