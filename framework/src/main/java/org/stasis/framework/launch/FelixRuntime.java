package org.stasis.framework.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;
import org.stasis.framework.util.RuntimeDirectory;

/**
 * Boots Apache Felix with the distribution's bundles and FileInstall watching the
 * plugins folder, and tells the bundles when everything has started.
 */
final class FelixRuntime {
    private final LaunchOptions options;
    private final RuntimeDirectory runtimeDirectory;
    private final FrameworkCache cache;
    private final StartupTimeline timeline;
    private FutureTask<Framework> made;
    private Framework framework;
    private boolean stopped;

    FelixRuntime(LaunchOptions options, RuntimeDirectory runtimeDirectory, FrameworkCache cache,
            StartupTimeline timeline) {
        this.options = options;
        this.runtimeDirectory = runtimeDirectory;
        this.cache = cache;
        this.timeline = timeline;
    }

    /**
     * Builds the framework (not yet initialised: it touches no file) on a thread of its own, so
     * that it is done while the launcher makes sure the name is free; {@link #start()} uses it.
     */
    void prepare() {
        made = newFramework();
        // Then, while this thread would idle and the launcher initialises the framework and
        // installs the infrastructure on the other core, the JDK's first-use work of the start.
        Thread thread = new Thread(() -> {
            made.run();
            new JdkWarmUp().run();
        }, "stasis-framework-new");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Starts the framework and every bundle; returns once all have started.
     *
     * <p>The start is spread over both threads a coordinator has at hand: while the framework's
     * start-level thread starts the infrastructure (Declarative Services, Config Admin, Gogo's
     * runtime, FileInstall, the libraries, the plugin API), this thread installs Stasis's
     * framework, the built-in plugins and the shell; then the
     * core and the built-in plugins, which depend on nothing of each other but services, start
     * on two threads at once; the shell starts last, so that every command is registered before
     * it could run one.
     *
     * @throws Exception if the framework or a bundle of the distribution cannot start
     */
    void start() throws Exception {
        Files.createDirectories(options.pluginsDirectory());
        if (made == null) {
            prepare();
        }
        try {
            startFramework();
        } catch (Exception e) {
            if (!cache.reused()) {
                throw e;
            }
            // Felix drops a damaged bundle of its cache by itself; whatever else in a kept
            // cache stops the start, a clean one does not have.
            System.err.println("stasis: the framework did not start from its cache " + cache.storage() + " ("
                    + e.getMessage() + "); starting again from a clean one");
            stopFramework();
            cache.wipe();
            made = newFramework();
            made.run();
            startFramework();
        }
    }

    private FutureTask<Framework> newFramework() {
        return new FutureTask<>(() -> ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(configuration()));
    }

    private void startFramework() throws Exception {
        try {
            framework = made.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        framework.init();
        timeline.mark("framework initialised");
        if (timeline.enabled()) {
            framework.getBundleContext().addBundleListener((SynchronousBundleListener) event -> {
                if (event.getType() == BundleEvent.STARTED) {
                    timeline.mark("started " + event.getBundle().getSymbolicName());
                }
            });
        }
        CountDownLatch started = new CountDownLatch(1);
        List<String> errors = new CopyOnWriteArrayList<>();
        framework.getBundleContext().addFrameworkListener(event -> {
            if (event.getType() == FrameworkEvent.STARTED) {
                started.countDown();
            } else if (event.getType() == FrameworkEvent.ERROR) {
                errors.add(describe(event));
            }
        });
        BundleJars jars = BundleJars.in(options.home().resolve("bundles"));
        for (Bundle bundle : install(jars.infrastructure())) {
            bundle.start(Bundle.START_ACTIVATION_POLICY);
        }
        timeline.mark("infrastructure installed");
        framework.start();
        List<Bundle> core = install(jars.core());
        List<Bundle> plugins = install(jars.plugins());
        List<Bundle> last = install(jars.last());
        timeline.mark("bundles installed");
        if (!started.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the OSGi framework did not start within 60 s");
        }
        timeline.mark("infrastructure started");
        failOn(errors);
        // One resolution for all of them, rather than one per bundle as each starts.
        List<Bundle> ours = new ArrayList<>(core);
        ours.addAll(plugins);
        ours.addAll(last);
        framework.adapt(FrameworkWiring.class).resolveBundles(ours);
        timeline.mark("bundles resolved");
        BundleStarter coreStarter = new BundleStarter(core);
        BundleStarter pluginStarter = new BundleStarter(plugins);
        Thread pluginThread = new Thread(pluginStarter, "stasis-start-plugins");
        pluginThread.start();
        coreStarter.run();
        timeline.mark("core started");
        pluginThread.join();
        timeline.mark("plugins started");
        BundleStarter lastStarter = new BundleStarter(last);
        lastStarter.run();
        errors.addAll(coreStarter.failures());
        errors.addAll(pluginStarter.failures());
        errors.addAll(lastStarter.failures());
        timeline.mark("framework started");
        failOn(errors);
        Hashtable<String, Object> ready = new Hashtable<>();
        ready.put("stasis.ready", "true");
        framework.getBundleContext().registerService(Object.class, new Object(), ready);
    }

    private static void failOn(List<String> errors) {
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a bundle failed to start: " + errors.get(0));
        }
    }

    /** Blocks until the framework has stopped (stasis:shutdown, console exit, signal). */
    void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    /**
     * Stops the framework, waiting a little for bundles to clean up, and removes a throwaway cache
     * or lets go of a kept one (once).
     */
    synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            stopFramework();
            cache.close();
        } catch (BundleException | IOException e) {
            System.err.println("stasis: while stopping: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stopFramework() throws BundleException, InterruptedException {
        if (framework != null) {
            framework.stop();
            framework.waitForStop(10_000);
        }
    }

    // In place (reference:), not copied into the cache: the launcher's own jars are read in
    // place too, and copying 6 MB of jars cost each start ~30 ms of CPU. Fragments are
    // installed but not started.
    private List<Bundle> install(List<Path> jars) throws BundleException {
        List<Bundle> bundles = new ArrayList<>();
        for (Path jar : jars) {
            Bundle bundle = framework.getBundleContext().installBundle("reference:" + jar.toUri());
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                bundles.add(bundle);
            }
        }
        return bundles;
    }

    private Map<String, String> configuration() {
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, cache.storage().toString());
        if (cache.persistent()) {
            // Declarative Services keeps the descriptors it parsed with the cache (at its stop) and
            // reads them back instead; the cache's fingerprint keeps them from outliving their jars.
            config.put("ds.cache.metadata", "true");
        } else {
            config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        }
        PrecomputedSystemPackages.read(options.home())
                .ifPresent(packages -> config.put(Constants.FRAMEWORK_SYSTEMPACKAGES, packages));
        // The control socket checks its peer's uid with jdk.net.ExtendedSocketOptions.
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "jdk.net");
        config.put("felix.log.level", "1");
        config.put("felix.fileinstall.dir", options.pluginsDirectory().toString());
        config.put("felix.fileinstall.poll", "500");
        config.put("felix.fileinstall.noInitialDelay", "true");
        config.put("felix.fileinstall.bundles.new.start", "true");
        config.put("felix.fileinstall.log.level", "2");
        // FileInstall's scratch copies live with the framework cache and go with it.
        config.put("felix.fileinstall.tmpdir", cache.storage().resolve("fileinstall").toString());
        config.put("gosh.args", "--nointeractive --noshutdown");
        config.put("stasis.name", options.name());
        config.put(RuntimeDirectory.PROPERTY, runtimeDirectory.path().toString());
        config.put("stasis.ckpt.dir", options.checkpointDirectory().toString());
        config.put("stasis.home", options.home().toString());
        config.put("stasis.console", Boolean.toString(options.console()));
        config.put("stasis.interval", Long.toString(options.interval()));
        config.put("stasis.keep", Integer.toString(options.keep()));
        config.put("stasis.explicit", String.join(",", options.explicit()));
        config.put("stasis.exit.when.idle", Boolean.toString(options.exitWhenIdle()));
        if (options.listen() != null) {
            config.put("stasis.listen", options.listen());
        }
        if (options.join() != null) {
            config.put("stasis.join", options.join());
        }
        if (options.tokenFile() != null) {
            config.put("stasis.join.token", options.tokenFile().toString());
        }
        if (options.hostName() != null) {
            config.put("stasis.host.name", options.hostName());
        }
        return config;
    }

    private static String describe(FrameworkEvent event) {
        Throwable t = event.getThrowable();
        String bundle = event.getBundle() == null ? "?" : event.getBundle().getSymbolicName();
        return bundle + ": " + (t == null ? "unknown error" : t.getMessage());
    }
}
