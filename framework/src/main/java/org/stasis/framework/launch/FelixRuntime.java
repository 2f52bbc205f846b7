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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.SynchronousBundleListener;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.stasis.framework.util.RuntimeDirectory;
import org.stasis.framework.util.Trees;

/**
 * Boots Apache Felix with the distribution's bundles and FileInstall watching the
 * plugins folder, and tells the bundles when everything has started.
 */
final class FelixRuntime {
    private static final String SHELL_BUNDLE = "org.apache.felix.gogo.shell";

    private final LaunchOptions options;
    private final RuntimeDirectory runtimeDirectory;
    private final Path cache;
    private final StartupTimeline timeline;
    private Framework framework;
    private boolean stopped;

    FelixRuntime(LaunchOptions options, RuntimeDirectory runtimeDirectory, Path cache, StartupTimeline timeline) {
        this.options = options;
        this.runtimeDirectory = runtimeDirectory;
        this.cache = cache;
        this.timeline = timeline;
    }

    /**
     * Starts the framework and every bundle; returns once all have started.
     *
     * @throws Exception if the framework or a bundle of the distribution cannot start
     */
    void start() throws Exception {
        Files.createDirectories(options.pluginsDirectory());
        framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(configuration());
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
        List<String> errors = new ArrayList<>();
        framework.getBundleContext().addFrameworkListener(event -> {
            if (event.getType() == FrameworkEvent.STARTED) {
                started.countDown();
            } else if (event.getType() == FrameworkEvent.ERROR) {
                errors.add(describe(event));
            }
        });
        for (Bundle bundle : install()) {
            bundle.start(Bundle.START_ACTIVATION_POLICY);
        }
        timeline.mark("bundles installed");
        framework.start();
        if (!started.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the OSGi framework did not start within 60 s");
        }
        timeline.mark("framework started");
        if (!errors.isEmpty()) {
            throw new IllegalStateException("a bundle failed to start: " + errors.get(0));
        }
        Hashtable<String, Object> ready = new Hashtable<>();
        ready.put("stasis.ready", "true");
        framework.getBundleContext().registerService(Object.class, new Object(), ready);
    }

    /** Blocks until the framework has stopped (stasis:shutdown, console exit, signal). */
    void awaitStop() throws InterruptedException {
        framework.waitForStop(0);
    }

    /** Stops the framework, waiting a little for bundles to clean up, and removes its cache (once). */
    synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        try {
            if (framework != null) {
                framework.stop();
                framework.waitForStop(10_000);
            }
            Trees.delete(cache);
        } catch (BundleException | IOException e) {
            System.err.println("stasis: while stopping: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private List<Bundle> install() throws IOException, BundleException {
        List<Path> jars;
        try (Stream<Path> files = Files.list(options.home().resolve("bundles"))) {
            jars = files.filter(p -> p.toString().endsWith(".jar")).sorted().collect(Collectors.toList());
        }
        List<Bundle> bundles = new ArrayList<>();
        for (Path jar : jars) {
            // In place (reference:), not copied into the cache: the launcher's own jars are read
            // in place too, and copying 6 MB of jars cost each start ~30 ms of CPU.
            Bundle bundle = framework.getBundleContext().installBundle("reference:" + jar.toUri());
            // The shell starts last so that every command is registered before it could run one.
            bundle.adapt(BundleStartLevel.class).setStartLevel(SHELL_BUNDLE.equals(bundle.getSymbolicName()) ? 2 : 1);
            if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                bundles.add(bundle);
            }
        }
        return bundles;
    }

    private Map<String, String> configuration() {
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        config.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "2");
        // The control socket checks its peer's uid with jdk.net.ExtendedSocketOptions.
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "jdk.net");
        config.put("felix.log.level", "1");
        config.put("felix.fileinstall.dir", options.pluginsDirectory().toString());
        config.put("felix.fileinstall.poll", "500");
        config.put("felix.fileinstall.noInitialDelay", "true");
        config.put("felix.fileinstall.bundles.new.start", "true");
        config.put("felix.fileinstall.log.level", "2");
        // FileInstall's scratch copies live with the framework cache and go with it.
        config.put("felix.fileinstall.tmpdir", cache.resolve("fileinstall").toString());
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
