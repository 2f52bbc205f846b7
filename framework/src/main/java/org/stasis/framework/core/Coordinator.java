package org.stasis.framework.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.stasis.api.Computation;
import org.stasis.api.DrainCallback;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.PreCheckpointCallback;
import org.stasis.api.RestartCallback;
import org.stasis.api.ResumeCallback;
import org.stasis.api.StasisPlugin;
import org.stasis.api.StatusCallback;
import org.stasis.api.WriteCallback;
import org.stasis.framework.agent.Agent;
import org.stasis.framework.agent.AgentCore;
import org.stasis.framework.agent.AgentRegistry;
import org.stasis.framework.agent.CheckpointRequest;
import org.stasis.framework.util.RuntimeDirectory;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.Diagnostics;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.EventLogEntry;
import org.stasis.framework.dispatch.PluginCallback;
import org.stasis.framework.dispatch.PluginRegistry;
import org.stasis.framework.dispatch.StatusWarnings;
import org.stasis.framework.lifecycle.CheckpointLifecycle;
import org.stasis.framework.lifecycle.CheckpointResult;
import org.stasis.framework.lifecycle.Lineages;
import org.stasis.framework.lifecycle.NamedComputation;
import org.stasis.framework.lifecycle.OperationFailedException;
import org.stasis.framework.lifecycle.Progress;
import org.stasis.framework.span.RestartChoices;
import org.stasis.framework.store.CheckpointInvalidException;
import org.stasis.framework.store.CheckpointStore;
import org.stasis.framework.store.PageCacheWarmer;

/**
 * The running coordinator: its name, the plugins that joined it, the event log, and
 * the dispatcher that runs plugin events. One per framework.
 */
@Component(service = Coordinator.class, immediate = true, configurationPid = "org.stasis.coordinator",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = CoordinatorConfig.class)
public class Coordinator {
    /** Framework property with the coordinator's name. */
    public static final String NAME_PROPERTY = "stasis.name";
    /** Framework property with the interval in seconds (0: off). */
    public static final String INTERVAL_PROPERTY = "stasis.interval";
    /** Framework property with the number of checkpoints to keep (0: all). */
    public static final String KEEP_PROPERTY = "stasis.keep";
    /** Framework property with the default checkpoint directory. */
    public static final String CKPT_DIR_PROPERTY = "stasis.ckpt.dir";
    /** Framework property: whether the coordinator exits after its last computation ended. */
    public static final String EXIT_WHEN_IDLE_PROPERTY = "stasis.exit.when.idle";
    /** Framework property: this host's name in computations that span hosts (default: the machine's hostname). */
    public static final String HOST_NAME_PROPERTY = "stasis.host.name";
    /** Framework property: the main coordinator's {@code HOST:PORT} a member joins (doc/several-hosts.md). */
    public static final String JOIN_PROPERTY = "stasis.join";
    /** Framework property: the file with the main's token, for {@link #JOIN_PROPERTY}. */
    public static final String JOIN_TOKEN_PROPERTY = "stasis.join.token";
    /** Framework property: the settings the command line gave (they win over the cfg file at start). */
    public static final String EXPLICIT_PROPERTY = "stasis.explicit";

    private final PluginRegistry registry = new PluginRegistry();
    private final StatusWarnings statusWarnings = new StatusWarnings(Duration.ofSeconds(2));
    private final String name;
    private final EventLog log;
    private final Diagnostics diagnostics;
    private final EventDispatcher dispatcher;
    private final AgentRegistry agents;
    private final AgentCore core;
    private final Path agentSocket;
    private final OperationGate operations = new OperationGate(line -> log().add(new EventLogEntry(
            java.time.Instant.now(), "request", "core:dropped", "core", 0, "dropped", line)));
    private final Lineages lineages = new Lineages();
    private final org.stasis.framework.store.Generations generations = new org.stasis.framework.store.Generations();
    private final Map<String, List<Path>> pruned = new java.util.concurrent.ConcurrentHashMap<>();
    private final IntervalCheckpoints intervals = new IntervalCheckpoints(this::intervalCheckpoint);
    private volatile Path checkpointDirectory;
    private volatile CheckpointResult lastCheckpoint;
    private final java.util.Map<String, CheckpointResult> lastOf = new java.util.concurrent.ConcurrentHashMap<>();
    private final Computations computations;
    private volatile int keep;
    private final CheckpointOptions options = new CheckpointOptions();
    private final java.time.Instant started = java.time.Instant.now();
    private final LiveSettings settings;
    private volatile Runnable closeControl = () -> { };
    private final IdleExit idleExit;
    private volatile int controlPort;
    private final String hostName;
    private final Path home;
    private final Path runtimePath;
    private final org.stasis.framework.span.Members members;
    private volatile org.stasis.framework.span.MemberLink memberLink;
    // a main's link to itself: the parts of a restart placed on its host beside its own part
    private volatile org.stasis.framework.span.MemberLink selfLink;
    private volatile String controlAddress = "";
    private final SpanAddressFile spanAddress;
    private final PageCacheWarmer warmer;

    /**
     * @param context the framework bundle's context, for the launcher's properties
     * @param config the configuration
     * @param properties the configuration as properties (org.stasis.coordinator.cfg)
     * @throws IOException if the agent socket cannot be opened
     */
    @Activate
    public Coordinator(BundleContext context, CoordinatorConfig config, java.util.Map<String, Object> properties)
            throws IOException {
        this.name = property(context, NAME_PROPERTY, "default");
        this.checkpointDirectory = Path.of(property(context, CKPT_DIR_PROPERTY,
                org.stasis.framework.util.DefaultCheckpoints.directory().toString()));
        this.log = new EventLog(config.event_log_size());
        this.diagnostics = new Diagnostics(log, System.err);
        this.warmer = new PageCacheWarmer(
                line -> diagnostics.info(Diagnostics.COORDINATOR, "warm-cache", line));
        this.dispatcher = new EventDispatcher(registry, log, Duration.ofSeconds(config.plugin_timeout_seconds()));
        int uid = RuntimeDirectory.currentUid();
        RuntimeDirectory runtime = RuntimeDirectory.of(context).ensurePrivate();
        this.agentSocket = runtime.agentSocket(name);
        this.agents = new AgentRegistry(agentSocket, uid, diagnostics);
        this.core = new AgentCore(agents, agentSocket, runtime.path(), diagnostics);
        this.computations = new Computations(agents::agents);
        this.hostName = property(context, HOST_NAME_PROPERTY, machineName());
        this.home = Path.of(property(context, "stasis.home", "."));
        this.runtimePath = runtime.path();
        this.spanAddress = new SpanAddressFile(runtimePath, name);
        spanAddress.none();
        this.members = new org.stasis.framework.span.Members(() -> hostName, computations::running, diagnostics);
        members.onCheckpointRequest(whole -> checkpoint(whole, Progress.NONE));
        agents.onCheckpointRequest(this::checkpointRequested);
        this.keep = Integer.parseInt(property(context, KEEP_PROPERTY, "0"));
        intervals.set(Duration.ofSeconds(Long.parseLong(property(context, INTERVAL_PROPERTY, "0"))));
        this.idleExit = new IdleExit(this::idle, () -> exitIdle(context));
        idleExit.enabled(Boolean.parseBoolean(property(context, EXIT_WHEN_IDLE_PROPERTY, "false")));
        this.settings = new LiveSettings(java.util.Set.copyOf(java.util.Arrays.asList(
                property(context, EXPLICIT_PROPERTY, "").split(","))));
        apply(properties, false);
        String join = context.getProperty(JOIN_PROPERTY);
        if (join != null && !join.isBlank()) {
            join(context, join, Path.of(property(context, JOIN_TOKEN_PROPERTY, runtime.path().resolve("default.token")
                    .toString())));
        }
    }

    private static String machineName() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            return name.isEmpty() ? "localhost" : name;
        } catch (IOException e) {
            return "localhost";
        }
    }

    // A member coordinator (stasis launch --coordinator): joins the main at once, or stops.
    private void join(BundleContext context, String main, Path tokenFile) {
        try {
            memberLink = org.stasis.framework.span.MemberLink.join(main, tokenFile, hostName, memberParts(false),
                    diagnostics);
            diagnostics.info(Diagnostics.COORDINATOR, "member", "joined the main coordinator at " + main + " as host "
                    + hostName);
            spanAddress.main(main, tokenFile, true);
        } catch (IOException e) {
            diagnostics.warning(Diagnostics.COORDINATOR, "member", e.getMessage());
            Thread stop = new Thread(() -> {
                try {
                    context.getBundle(0).stop();
                } catch (Exception ignored) {
                    // already stopping
                }
            }, "stasis-stop-after-join-failure");
            stop.start();
        }
    }

    // held: the parts of this main's own member link, which must not take the main's computation id at restart
    private org.stasis.framework.span.MemberLink.Parts memberParts(boolean held) {
        return new org.stasis.framework.span.MemberLink.Parts() {
            @Override
            public int kill(String part) {
                return org.stasis.framework.agent.ComputationKill.killAll(() -> computations.agents(part));
            }

            @Override
            public String reserve() {
                return computations.reserve(checkpointDirectory);
            }

            @Override
            public List<Long> pids(String part) {
                return computations.agents(part).stream().map(a -> (long) a.hostPid()).toList();
            }

            @Override
            public void checkpoint(String part, boolean full,
                    org.stasis.framework.lifecycle.SpanOperation span) throws OperationFailedException {
                checkpointPart(part, Progress.NONE, full, span);
            }

            @Override
            public String restart(Path checkpoint, RestartChoices choices,
                    org.stasis.framework.lifecycle.SpanOperation span) throws Exception {
                return restartInBackground(checkpoint, choices, span, held);
            }
        };
    }

    /**
     * Restarts a checkpoint with a restorer this coordinator starts (not a command's
     * foreground): a part of a checkpoint that spans hosts, placed here by the main.
     * Returns once the restored processes run; its output goes where the checkpoint's
     * descriptors say, the restorer's own to {@code <runtime dir>/<name>-restart.log}.
     *
     * @param checkpoint the checkpoint directory
     * @param trusted the user's --trust
     * @return the restarted computation's id here
     * @throws Exception with one line if it cannot be restarted
     */
    public String restartInBackground(Path checkpoint, boolean trusted) throws Exception {
        return restartInBackground(checkpoint, new RestartChoices(trusted, true, true),
                org.stasis.framework.lifecycle.SpanOperation.NONE);
    }

    String restartInBackground(Path checkpoint, RestartChoices choices,
            org.stasis.framework.lifecycle.SpanOperation span) throws Exception {
        return restartInBackground(checkpoint, choices, span, false);
    }

    // freshId: under a new computation id, never the one its checkpoint had (a part held beside the main's own)
    private String restartInBackground(Path checkpoint, RestartChoices choices,
            org.stasis.framework.lifecycle.SpanOperation span, boolean freshId) throws Exception {
        java.util.Set<String> before = computations.running();
        CompletableFuture<String> ended = new CompletableFuture<>();
        Path plan = prepareRestartSpanning(checkpoint, choices.trusted(), 0, () -> false, span, ended, freshId);
        Path log = runtimePath.resolve(name + "-restart.log");
        List<String> command = new java.util.ArrayList<>(List.of("setsid", home.resolve("bin/stasis-restore").toString()));
        command.addAll(choices.restorerOptions());
        command.add(plan.toString());
        Process restorer = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!ended.isDone() && System.nanoTime() < deadline) {
            if (!restorer.isAlive() && restorer.exitValue() != 0) {
                break;
            }
            Thread.sleep(50);
        }
        String id = ended.getNow("");
        java.util.Set<String> now = new java.util.TreeSet<>(computations.running());
        now.removeAll(before);
        if (!now.contains(id)) {
            throw new IOException("the restart of " + checkpoint + " on host " + hostName + " did not bring its"
                    + " processes back; see " + log);
        }
        return id;
    }

    /**
     * {@code stasis restart --hosts h1,h2 [--map PART=HOST,...] CKPT} on the main
     * ({@link SpanRestart}).
     *
     * @param checkpoint the main's checkpoint
     * @param hosts the hosts, in order
     * @param map part name to host
     * @param choices the user's --trust, --no-verify, --no-prefetch
     * @param restorerPid the pid that will run the restorer of the main's part
     * @param gone whether the client left
     * @return the plan of the main's part, or null when it is placed on another host
     * @throws Exception with one line; a wrong placement starts nothing
     */
    public Path restartSpan(Path checkpoint, List<String> hosts, Map<String, String> map, RestartChoices choices,
            long restorerPid, BooleanSupplier gone) throws Exception {
        return new SpanRestart(this).restart(checkpoint, hosts, map, choices, restorerPid, gone);
    }

    // A restart whose lifecycle never ran still ends its span: the other parts' exchanges fail at once.
    Path prepareRestartSpanning(Path checkpoint, boolean trusted, long restorerPid, BooleanSupplier gone,
            org.stasis.framework.lifecycle.SpanOperation span) throws Exception {
        return prepareRestartSpanning(checkpoint, trusted, restorerPid, gone, span, new CompletableFuture<>(), false);
    }

    // ended: completes with the restarted computation's id when the restart ended (empty if it failed)
    private Path prepareRestartSpanning(Path checkpoint, boolean trusted, long restorerPid, BooleanSupplier gone,
            org.stasis.framework.lifecycle.SpanOperation span, CompletableFuture<String> ended, boolean freshId)
            throws Exception {
        if (!span.spans()) {
            return prepareRestart(checkpoint, trusted, restorerPid, gone, Map.of(), span, ended, freshId);
        }
        boolean[] ran = {false};
        org.stasis.framework.lifecycle.SpanOperation watched = new SpanWatch(span, ran);
        try {
            return prepareRestart(checkpoint, trusted, restorerPid, gone, Map.of(), watched, ended, freshId);
        } catch (Exception e) {
            if (!ran[0]) {
                span.abort(String.valueOf(e.getMessage()));
                span.end();
            }
            throw e;
        }
    }

    /** @return this host's name in computations that span hosts */
    public String hostName() {
        return hostName;
    }

    /** @return the members that joined this coordinator and the parts they hold (as a main) */
    public org.stasis.framework.span.Members members() {
        return members;
    }

    /** @return this coordinator's link to its main, if it is a member */
    public Optional<org.stasis.framework.span.MemberLink> memberLink() {
        return Optional.ofNullable(memberLink);
    }

    /**
     * Joins this main as a member of itself, once: a restart across hosts that places other
     * parts on the main's host beside the main's own restarts them through this link, so
     * that they stay parts of the main's computation (its next checkpoint takes them) rather
     * than computations of their own.
     *
     * @throws IOException with one line if the main does not listen on TCP or refused it
     */
    synchronized void joinSelf() throws IOException {
        if (selfLink != null) {
            return;
        }
        if (controlAddress.isEmpty()) {
            throw new IOException("coordinator '" + name + "' does not listen on TCP; start it with --listen ADDR");
        }
        selfLink = org.stasis.framework.span.MemberLink.joinSelf(controlAddress, runtimePath.resolve(name + ".token"),
                members.selfKey(), hostName, memberParts(true), diagnostics);
    }

    /**
     * @param id a computation id
     * @return whether it is a part of one of this main's own computations, held here (its
     *         checkpoints are that computation's)
     */
    public boolean heldPart(String id) {
        org.stasis.framework.span.MemberLink link = selfLink;
        return link != null && link.computationOf(id) != null;
    }

    // The link through which computation id is a part of a main's computation (this main's own for a part it holds).
    private org.stasis.framework.span.MemberLink partLink(String id) {
        for (org.stasis.framework.span.MemberLink link : new org.stasis.framework.span.MemberLink[] {memberLink,
                selfLink}) {
            if (link != null && link.computationOf(id) != null) {
                return link;
            }
        }
        return null;
    }

    /**
     * A member's launch: a new computation here, registered at the main as a part of
     * its computation {@code computation}.
     *
     * @param computation the main's computation id, empty for its only one
     * @return the new computation's id here
     * @throws IllegalStateException with one line if this is no member or the main refused
     */
    public String launchPart(String computation) {
        org.stasis.framework.span.MemberLink link = memberLink;
        if (link == null) {
            throw new IllegalStateException("coordinator '" + name + "' has joined no main coordinator; start it with"
                    + " stasis launch --coordinator HOST:PORT");
        }
        try {
            return link.launch(computation);
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    // Nothing to do: no process, no checkpoint or restart under way.
    private boolean idle() {
        return agents.agents().isEmpty() && !operations.busy();
    }

    private void exitIdle(BundleContext context) {
        stopping();
        diagnostics.info(Diagnostics.COORDINATOR, "idle-exit", "coordinator '" + name + "' exits: it has had no computation for "
                + idleExit.grace().toSeconds() + " s and was started by launch or restart; its checkpoints stay"
                + " (keep it with: stasis launch --keep-coordinator, or idle.exit.seconds=0)");
        Thread stop = new Thread(() -> {
            try {
                context.getBundle(0).stop();
            } catch (Exception e) {
                diagnostics.warning(Diagnostics.COORDINATOR, "idle-exit", "coordinator '" + name + "' cannot stop: "
                        + e.getMessage() + "; stop it with: stasis shutdown --name " + name);
            }
        }, "stasis-idle-stop");
        stop.start();
    }

    // Every property of org.stasis.coordinator.cfg that appeared or changed, while running too.
    private void apply(java.util.Map<String, ?> properties, boolean announce) {
        settings.changes(properties).forEach((key, value) -> {
            try {
                applySetting(key, value);
                if (announce) {
                    diagnostics.info(Diagnostics.COORDINATOR, "configuration", "configuration: " + key + " = " + value);
                }
            } catch (RuntimeException e) {
                diagnostics.warning(Diagnostics.COORDINATOR, "configuration", "configuration: ignoring " + key + " = '"
                        + value + "': " + e.getMessage() + "; fix org.stasis.coordinator.cfg");
            }
        });
    }

    private void applySetting(String key, String value) {
        switch (key) {
            case "plugin.timeout.seconds" -> dispatcher.timeout(Duration.ofSeconds(positive(value)));
            case "event.log.size" -> log.capacity((int) positive(value));
            case "interval" -> intervals.set(Duration.ofSeconds(atLeastZero(value)));
            case "keep" -> keep((int) atLeastZero(value));
            case "ckpt.dir" -> {
                if (!value.isEmpty()) {
                    checkpointDirectory(Path.of(value));
                }
            }
            case "idle.exit.seconds" -> idleExit.grace(Duration.ofSeconds(atLeastZero(value)));
            case "warm.cache" -> warmer.enabled(trueOrFalse(value));
            case "snapshot.min.mib" -> core.snapshotFrom(atLeastZero(value) << 20);
            case "save.files" -> {
                if (!value.isEmpty()) {
                    options.set(CheckpointOptions.SAVE_FILES, value);
                }
            }
            default -> throw new IllegalArgumentException("unknown property");
        }
    }

    private static long atLeastZero(String value) {
        long n = Long.parseLong(value);
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("it takes a whole number of 0 or more");
        }
        return n;
    }

    private static boolean trueOrFalse(String value) {
        if (!value.equals("true") && !value.equals("false")) {
            throw new IllegalArgumentException("it takes true or false");
        }
        return Boolean.parseBoolean(value);
    }

    private static long positive(String value) {
        long n = atLeastZero(value);
        if (n == 0) {
            throw new IllegalArgumentException("it takes a whole number of 1 or more");
        }
        return n;
    }

    /** A control request came in or ended: an idle coordinator's grace period starts again. */
    public void touch() {
        idleExit.touch();
    }

    /** @param on whether this coordinator exits after its last computation ended (started implicitly) */
    public void exitWhenIdle(boolean on) {
        idleExit.enabled(on);
    }

    /** @return whether this coordinator exits after its last computation ended */
    public boolean exitWhenIdle() {
        return idleExit.enabled() && !idleExit.grace().isZero();
    }

    /** @return when this coordinator started */
    public java.time.Instant started() {
        return started;
    }

    /** @param port the TCP port the control server listens on ({@code --listen}), 0 for none */
    public void controlPort(int port) {
        this.controlPort = port;
    }

    /** @param address the {@code HOST:PORT} this coordinator's control server listens on over TCP */
    public void controlAddress(String address) {
        this.controlAddress = address;
    }

    /**
     * Tells this coordinator's processes where their main listens, for the hosts their
     * {@code ssh} reaches (a member's processes keep its main's address).
     *
     * @param address {@code HOST:PORT}, or {@code :PORT} when the listener takes every address
     */
    public void reachableAt(String address) {
        if (memberLink != null) {
            return;
        }
        try {
            spanAddress.main(address, runtimePath.resolve(name + ".token"), false);
        } catch (IOException e) {
            diagnostics.warning(Diagnostics.COORDINATOR, "member", "cannot write " + name
                    + ".span (ssh started by the computation will not carry it to other hosts): " + e.getMessage());
        }
    }

    /** @param close stops the control server from taking new connections (the control server's) */
    public void onStopping(Runnable close) {
        this.closeControl = close;
    }

    /**
     * The coordinator is about to stop: from now on it takes no new control connection,
     * so that a client finds no coordinator (and a launch starts a new one) rather than
     * one that vanishes under it. Requests already taken still get their answers.
     */
    public void stopping() {
        closeControl.run();
    }

    /** @return the TCP port of the control server, 0 when it listens only on its Unix socket */
    public int controlPort() {
        return controlPort;
    }

    // Each running computation gets its own checkpoint.
    private void intervalCheckpoint() {
        for (String id : computations.running()) {
            if (partLink(id) != null) {
                continue;   // a part: the main's checkpoints take it
            }
            try {
                checkpoint(id, Progress.NONE);
            } catch (OperationFailedException e) {
                diagnostics.warning(Diagnostics.COORDINATOR, "interval",
                        "interval checkpoint of computation " + id + " failed: " + e.getMessage());
            }
        }
    }

    /** @param every how often to checkpoint; zero turns interval checkpoints off */
    public void interval(Duration every) {
        intervals.set(every);
    }

    /** @return the interval, zero when off */
    public Duration interval() {
        return intervals.interval();
    }

    /** @return when the next interval checkpoint is due, if any */
    public Optional<java.time.Instant> nextIntervalCheckpoint() {
        return intervals.due();
    }

    /** @param count how many checkpoints to keep; 0 keeps all */
    public void keep(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("keep takes a count of 0 (all) or more, not " + count);
        }
        this.keep = count;
    }

    /** @return how many checkpoints are kept; 0 means all */
    public int keep() {
        return keep;
    }

    // Runs on its own thread: the request's connection is already answered and closed.
    private void checkpointRequested(CheckpointRequest request) {
        int hostPid = request.hostPid();
        Thread thread = new Thread(() -> {
            Optional<Agent> requester = agents.agents().stream().filter(a -> a.hostPid() == hostPid).findFirst();
            try {
                String id = requester.map(Agent::computation).orElse(Agent.NO_COMPUTATION);
                org.stasis.framework.span.MemberLink link = partLink(id);
                if (link != null) {
                    // A part: the main checkpoints the whole computation, this part with it.
                    link.requestCheckpoint(id);
                    diagnostics.info(Diagnostics.COORDINATOR, "requested", "checkpoint requested by process " + hostPid
                            + " of part " + id + ": taken by the main coordinator at " + link.main());
                    return;
                }
                CheckpointResult result = checkpoint(id, Progress.NONE);
                diagnostics.info(result.id(), "requested", "checkpoint " + result.id() + " requested by process "
                        + hostPid);
            } catch (OperationFailedException | IOException e) {
                diagnostics.warning(Diagnostics.COORDINATOR, "requested",
                        "checkpoint requested by process " + hostPid + " failed: " + e.getMessage());
                // A checkpoint that failed before anything was suspended sent no RESUME:
                // the thread that asked would wait for ever.
                requester.ifPresent(agent -> agent.decline(request.sequence()));
            }
        }, "stasis-requested-checkpoint");
        thread.setDaemon(true);
        thread.start();
    }

    // A configuration change must not re-create the component: that would drop every
    // agent connection and leave the computation unmanaged.
    @Modified
    void modified(java.util.Map<String, Object> properties) {
        apply(properties, true);
    }

    @Deactivate
    void deactivate() {
        idleExit.close();
        intervals.close();
        if (memberLink != null) {
            memberLink.close();
        }
        if (selfLink != null) {
            selfLink.close();
        }
        agents.close();
        dispatcher.close();
        statusWarnings.close();
        warmer.close();
    }

    /** @return where agents of this computation connect */
    public Path agentSocket() {
        return agentSocket;
    }

    /** @param directory where the next checkpoints go */
    public void checkpointDirectory(Path directory) {
        this.checkpointDirectory = directory.toAbsolutePath().normalize();
    }

    /** @return the most recent checkpoint published by this coordinator, if any */
    public Optional<CheckpointResult> lastCheckpoint() {
        return Optional.ofNullable(lastCheckpoint);
    }

    /**
     * @param id a computation id
     * @return the most recent checkpoint of that computation published by this coordinator, if any
     */
    public Optional<CheckpointResult> lastCheckpoint(String id) {
        return Optional.ofNullable(lastOf.get(id));
    }

    /** @return the computations of this coordinator */
    public Computations computations() {
        return computations;
    }

    /** @return the processes of the computation with their agents */
    public List<Agent> agents() {
        return agents.agents();
    }

    /**
     * Takes a checkpoint of the computation; one operation at a time.
     *
     * @return the published checkpoint
     * @throws OperationFailedException if it failed; nothing was published
     */
    public CheckpointResult checkpoint() throws OperationFailedException {
        return checkpoint(Progress.NONE);
    }

    /**
     * Takes a checkpoint of the computation; one operation at a time.
     *
     * @param progress hears the phases
     * @return the published checkpoint
     * @throws OperationFailedException if it failed; nothing was published
     */
    public CheckpointResult checkpoint(Progress progress) throws OperationFailedException {
        java.util.Set<String> running = new java.util.TreeSet<>(computations.running());
        running.removeIf(this::heldPart);
        if (running.size() > 1) {
            throw new IllegalArgumentException("coordinator '" + name + "' runs " + running.size()
                    + " computations (" + String.join(", ", running) + "); checkpoint one: stasis checkpoint"
                    + " --computation ID");
        }
        return checkpoint(running.isEmpty() ? Agent.NO_COMPUTATION : running.iterator().next(), progress);
    }

    /**
     * Takes a checkpoint of one computation, into its own directory under the
     * checkpoint directory; one operation at a time.
     *
     * @param id the computation's id
     * @param progress hears the phases
     * @return the published checkpoint
     * @throws OperationFailedException if it failed; nothing was published
     */
    public CheckpointResult checkpoint(String id, Progress progress) throws OperationFailedException {
        return checkpoint(id, progress, false);
    }

    /**
     * Takes a checkpoint of one computation, incremental over its previous one where
     * it can be unless {@code full}; one operation at a time.
     *
     * @param id the computation's id
     * @param progress hears the phases
     * @param full write every memory image whole
     * @return the published checkpoint
     * @throws OperationFailedException if it failed; nothing was published
     */
    public CheckpointResult checkpoint(String id, Progress progress, boolean full) throws OperationFailedException {
        org.stasis.framework.span.MemberLink link = partLink(id);
        String whole = link == null ? null : link.computationOf(id);
        if (whole != null) {
            throw new OperationFailedException("computation " + id + " is the part of host " + link.host()
                    + " of computation " + whole + " of the main coordinator at " + link.main()
                    + "; checkpoint it there: the main's checkpoints take every part", null);
        }
        return checkpointPart(id, progress, full, null);
    }

    // span null: this coordinator's own computation, spanning the members that hold parts of it.
    private CheckpointResult checkpointPart(String id, Progress progress, boolean full,
            org.stasis.framework.lifecycle.SpanOperation part) throws OperationFailedException {
        // A main that holds parts of its own computation (selfLink) checkpoints them while its own
        // part's checkpoint runs: one group at the gate, each with its own core.
        org.stasis.framework.span.MemberLink link = part != null ? partLink(id) : null;
        boolean held = link != null && link == selfLink;
        String group = held ? "span " + link.computationOf(id) : members.spans(id) ? "span " + id : "";
        operations.enter("checkpoint of " + id, false, progress::cancelled, group, id);
        AgentCore steps = held ? core.sibling() : core;
        try {
            Path root = checkpointDirectory.resolve(id);
            steps.computation(id);
            warmer.stop();
            org.stasis.framework.lifecycle.SpanOperation span = part != null ? part : members.operation(id, full);
            CheckpointResult result = lifecycle(root, steps).checkpoint(computation(id), progress, options.asMap(),
                    full, span);
            lastCheckpoint = result;
            lastOf.put(id, result);
            linkLatest(result);
            if (pruned.size() > 64) {
                pruned.clear();     // the command that took it has read it long ago
            }
            pruned.put(result.id(), pruneOld(root, storeName(id)));
            // a restart soon after finds the images in memory (the agent wrote them past the cache)
            warmer.warm(result.directory(),
                    result.images().stream().map(org.stasis.framework.store.ProcessImage::image).toList());
            return result;
        } finally {
            if (steps != core) {
                steps.close();
            }
            operations.leave();
        }
    }

    /**
     * Prepares a restart: validates the checkpoint and lets the plugins build the
     * plan; the restart completes in the background once the restorer started by the
     * caller has brought the process back and it has connected.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @return the plan file to hand to {@code stasis-restore}
     * @throws Exception if the checkpoint cannot be restarted; nothing was started
     */
    public Path prepareRestart(Path checkpoint) throws Exception {
        return prepareRestart(checkpoint, false);
    }

    /**
     * Like {@link #prepareRestart(Path)}, optionally for a checkpoint the ownership
     * rule refuses (the user's {@code --trust}).
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param trusted restart a foreign checkpoint, with a warning
     * @return the plan file
     * @throws Exception as {@link #prepareRestart(Path)}
     */
    public Path prepareRestart(Path checkpoint, boolean trusted) throws Exception {
        return prepareRestart(checkpoint, trusted, 0, () -> false);
    }

    /**
     * Like {@link #prepareRestart(Path, boolean)}, for a restorer the caller names: if
     * that process ends before it connects, the restart fails at once.
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param trusted restart a foreign checkpoint, with a warning
     * @param restorerPid the pid that will run {@code stasis-restore}; 0 if not known
     * @param gone whether the client asking has left (then nothing is started)
     * @return the plan file
     * @throws Exception as {@link #prepareRestart(Path)}
     */
    public Path prepareRestart(Path checkpoint, boolean trusted, long restorerPid, BooleanSupplier gone)
            throws Exception {
        return prepareRestart(checkpoint, trusted, restorerPid, gone, java.util.Map.of());
    }

    /**
     * Like {@link #prepareRestart(Path, boolean, long, BooleanSupplier)}, with the
     * user's path redirects ({@code stasis restart --redirect OLD=NEW}): they go into
     * the plan before the plugins run ({@link org.stasis.api.RestartPlan#redirect}).
     *
     * @param checkpoint a checkpoint directory or a {@code latest} link
     * @param trusted restart a foreign checkpoint, with a warning
     * @param restorerPid the pid that will run {@code stasis-restore}; 0 if not known
     * @param gone whether the client asking has left (then nothing is started)
     * @param redirects old path to where it is now, checked by {@link org.stasis.framework.lifecycle.Redirects}
     * @return the plan file
     * @throws Exception as {@link #prepareRestart(Path)}
     */
    public Path prepareRestart(Path checkpoint, boolean trusted, long restorerPid, BooleanSupplier gone,
            java.util.Map<Path, Path> redirects) throws Exception {
        return prepareRestart(checkpoint, trusted, restorerPid, gone, redirects,
                org.stasis.framework.lifecycle.SpanOperation.NONE, new CompletableFuture<>(), false);
    }

    // The parts of one restart across hosts placed here restart at once, each with its own core (plan, restorer).
    private Path prepareRestart(Path checkpoint, boolean trusted, long restorerPid, BooleanSupplier gone,
            java.util.Map<Path, Path> redirects, org.stasis.framework.lifecycle.SpanOperation span,
            CompletableFuture<String> ended, boolean freshId) throws Exception {
        String group = span.group();
        operations.enter("restart of " + checkpoint.getFileName(), true, gone, group, "");
        warmer.restarting(checkpoint);
        // Its own core: the coordinator's runs the checkpoints, which go on meanwhile (OperationGate).
        AgentCore core = this.core.sibling();
        java.util.concurrent.atomic.AtomicReference<String> named = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable leave = () -> {
            core.close();
            operations.leaveRestart(named.get());
        };
        CompletableFuture<Path> plan;
        try {
            plan = core.expectPlan(restorerPid);
        } catch (RuntimeException e) {
            leave.run();
            ended.complete("");
            throw e;
        }
        String id;
        try {
            id = continuedComputation(checkpoint, trusted, freshId);
        } catch (RuntimeException e) {
            leave.run();
            ended.complete("");
            throw e;
        }
        named.set(id);
        operations.restarting(id);
        core.computation(id);
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        CheckpointLifecycle.RestartListener listener = new CheckpointLifecycle.RestartListener() {
            @Override
            public void options(java.util.Map<String, String> recorded) {
                options.adopt(recorded);    // the computation keeps its options across restarts
            }

            @Override
            public void warning(String message) {
                warnings.add(message);
            }

            @Override
            public java.util.Map<Path, Path> redirects() {
                return redirects;
            }
        };
        Thread restart = new Thread(() -> {
            try {
                Path root = checkpoint.toAbsolutePath().getParent();
                lifecycle(root == null ? checkpointDirectory : root, core).restart(checkpoint, computation(id),
                        trusted, listener, span);
                ended.complete(id);
            } catch (Exception e) {
                // The waiting command reports it; printing here too reached the client twice
                // (this thread inherits the command session's System.err).
                core.planFailed(e);
            } finally {
                computations.settled(id);
                ended.complete("");
                leave.run();
            }
        }, "stasis-restart");
        // The permit is handed to the restart thread: it gives it back when the restart ends.
        restart.setDaemon(true);
        try {
            restart.start();
        } catch (RuntimeException e) {
            computations.settled(id);
            ended.complete("");
            leave.run();
            throw e;
        }
        try {
            return plan.get(5, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            // On the restart command's own stderr: the user's terminal, before the program runs.
            warnings.forEach(w -> System.err.println("stasis: warning: " + w));
        }
    }

    // <ckpt-dir>/latest names the newest checkpoint of any computation (one computation: its newest).
    private void linkLatest(CheckpointResult result) {
        try {
            new CheckpointStore(result.directory().getParent().getParent()).linkLatest(result.directory());
        } catch (IOException | RuntimeException e) {
            diagnostics.warning(result.id(), "latest", "cannot move " + checkpointDirectory.resolve("latest") + " to "
                    + result.id() + ": " + e.getMessage() + "; restart it by its directory");
        }
    }

    // The computation a restart continues: the checkpoint's own, unless that one runs.
    // A checkpoint that cannot be read fails the restart itself, with the restart's own message.
    private String continuedComputation(Path checkpoint, boolean trusted, boolean freshId) {
        Path root = checkpoint.toAbsolutePath().getParent();
        CheckpointStore store = new CheckpointStore(root == null ? checkpointDirectory : root);
        try {
            var manifest = store.read(store.resolve(checkpoint), trusted);
            return computations.adopt(freshId ? null : manifest.computationId(), manifest.command(),
                    checkpointDirectory);
        } catch (CheckpointInvalidException | RuntimeException e) {
            return computations.adopt(null, null, checkpointDirectory);
        }
    }

    private String storeName(String id) {
        return name + "-" + id;
    }

    // Only after a newer checkpoint is published: a failure never leaves fewer good ones.
    // Each deletion is an event ("stasis events") and a log line; the checkpoint command reports them too (pruned()).
    private List<Path> pruneOld(Path root, String storeName) {
        if (keep <= 0) {
            return List.of();
        }
        try {
            List<Path> deleted = new CheckpointStore(root).prune(storeName, keep,
                    line -> diagnostics.info(Diagnostics.COORDINATOR, "keep", line));
            for (Path old : deleted) {
                diagnostics.info(Diagnostics.COORDINATOR, "keep", "deleted " + old.getFileName() + " (keep " + keep + ")");
            }
            return deleted;
        } catch (IOException e) {
            diagnostics.warning(Diagnostics.COORDINATOR, "keep", "cannot delete old checkpoints in " + root + ": "
                    + e.getMessage() + "; delete them by hand or check the directory's permissions");
            return List.of();
        }
    }

    /**
     * @param checkpointId a checkpoint this coordinator took
     * @return the older checkpoints deleted after it by the keep setting
     */
    public List<Path> pruned(String checkpointId) {
        return pruned.getOrDefault(checkpointId, List.of());
    }

    private CheckpointLifecycle lifecycle(Path root) {
        return lifecycle(root, core);
    }

    private CheckpointLifecycle lifecycle(Path root, AgentCore steps) {
        return new CheckpointLifecycle(dispatcher, log, new CheckpointStore(root, generations), steps, lineages);
    }

    /** @return the lineages of the computations this coordinator checkpointed or restarted */
    public Lineages lineages() {
        return lineages;
    }

    /** @return the checkpoint options (e.g. {@code save-files}) recorded in every checkpoint */
    public CheckpointOptions options() {
        return options;
    }

    /** @return the coordinator's name */
    public String name() {
        return name;
    }

    /** @return where checkpoints go unless a command says otherwise */
    public Path checkpointDirectory() {
        return checkpointDirectory;
    }

    /** @return the plugins and the order they run in */
    public PluginRegistry registry() {
        return registry;
    }

    /** @return the event log */
    public EventLog log() {
        return log;
    }

    /** @return the one path for the coordinator's warnings: the event log and the coordinator log */
    public Diagnostics diagnostics() {
        return diagnostics;
    }

    /** @return the dispatcher that runs plugin events */
    public EventDispatcher dispatcher() {
        return dispatcher;
    }

    /** @return every process of this coordinator, as one computation (a rehearsal's view) */
    public Computation computation() {
        return new NamedComputation(name, () -> agents.agents().stream().map(Agent::info).collect(Collectors.toList()));
    }

    /**
     * @param id a computation id
     * @return that computation: its processes only
     */
    public Computation computation(String id) {
        return new NamedComputation(storeName(id), () -> computations.agents(id).stream().map(Agent::info)
                .collect(Collectors.toList()), id, computations.command(id));
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPreCheckpoint(PreCheckpointCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.PRE_CHECKPOINT, callback, reference);
    }

    void removePreCheckpoint(ServiceReference<?> reference) {
        remove(LifecycleEvent.PRE_CHECKPOINT, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDrain(DrainCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.DRAIN, callback, reference);
    }

    void removeDrain(ServiceReference<?> reference) {
        remove(LifecycleEvent.DRAIN, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addWrite(WriteCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.WRITE, callback, reference);
    }

    void removeWrite(ServiceReference<?> reference) {
        remove(LifecycleEvent.WRITE, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addRestart(RestartCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.RESTART, callback, reference);
    }

    void removeRestart(ServiceReference<?> reference) {
        remove(LifecycleEvent.RESTART, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addResume(ResumeCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.RESUME, callback, reference);
    }

    void removeResume(ServiceReference<?> reference) {
        remove(LifecycleEvent.RESUME, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addStatus(StatusCallback callback, ServiceReference<?> reference) {
        statusWarnings.add((Long) reference.getProperty(Constants.SERVICE_ID), pluginId(reference), callback);
    }

    void removeStatus(ServiceReference<?> reference) {
        statusWarnings.remove((Long) reference.getProperty(Constants.SERVICE_ID));
    }

    /**
     * @param id a computation id
     * @return the plugins' warnings about it for {@code stasis status}, {@code "<plugin>: <line>"}
     */
    public List<String> statusWarnings(String id) {
        return statusWarnings.of(computation(id));
    }

    private void add(LifecycleEvent event, Object callback, ServiceReference<?> reference) {
        registry.add(new PluginCallback(pluginId(reference), event, callback, ranking(reference),
                (Long) reference.getProperty(Constants.SERVICE_ID), bundleName(reference)));
    }

    private void remove(LifecycleEvent event, ServiceReference<?> reference) {
        registry.remove((Long) reference.getProperty(Constants.SERVICE_ID), event);
    }

    private static String pluginId(ServiceReference<?> reference) {
        for (String key : List.of(StasisPlugin.PROPERTY, "component.name")) {
            Object value = reference.getProperty(key);
            if (value instanceof String s && !s.isBlank()) {
                return s;
            }
        }
        return reference.getBundle().getSymbolicName();
    }

    private static int ranking(ServiceReference<?> reference) {
        return reference.getProperty(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0;
    }

    private static String bundleName(ServiceReference<?> reference) {
        var bundle = reference.getBundle();
        return bundle == null ? "?" : bundle.getSymbolicName() + " " + bundle.getVersion();
    }

    private static String property(BundleContext context, String key, String fallback) {
        String value = context.getProperty(key);
        return value == null || value.isBlank() ? fallback : value;
    }
}
