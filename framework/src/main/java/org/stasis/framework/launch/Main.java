package org.stasis.framework.launch;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.stasis.framework.util.RuntimeDirectory;
import org.stasis.framework.util.StaleFiles;

/**
 * Entry point of {@code stasis coordinator}: checks that the name is free, boots the
 * OSGi runtime and keeps it running until it is shut down.
 */
public final class Main {
    /** How long a start waits for a coordinator of the same name that neither answers nor lets go. */
    private static final long NAME_WAIT_NANOS = 15_000_000_000L;

    private Main() {
    }

    /**
     * @param args {@code --home DIR [--console]} from bin/stasis, then the user's options
     */
    public static void main(String[] args) {
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(Arrays.asList(args));
        } catch (UsageException e) {
            System.err.println("stasis: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.print(LaunchOptions.USAGE);
            return;
        }
        System.exit(run(options));
    }

    private static int run(LaunchOptions options) {
        StartupTimeline timeline = StartupTimeline.fromSystemProperty();
        timeline.mark("main");
        FelixRuntime runtime;
        NameLock nameLock;
        try {
            RuntimeDirectory directory = RuntimeDirectory.forCurrentUser().ensurePrivate();
            Path socket = directory.socket(options.name());
            FrameworkCache cache = FrameworkCache.open(System.getenv(), options, directory.path());
            runtime = new FelixRuntime(options, directory, cache, timeline);
            runtime.prepare();
            // One coordinator per name: two started at the same moment both found no
            // socket, and the later one took the earlier one's socket away (that one
            // then ran on unreachable). The lock is held as long as this JVM runs.
            nameLock = awaitName(directory.path().resolve(options.name() + ".lock"), socket);
            if (nameLock == null) {
                System.err.println("stasis: coordinator '" + options.name() + "' is already starting or running");
                return 1;
            }
            if (answers(socket)) {
                nameLock.close();
                System.err.println("stasis: coordinator '" + options.name() + "' is already running; stop it with: "
                        + "stasis exec" + nameOption(options) + " stasis:shutdown");
                return 1;
            }
            if (cache.warning() != null) {
                System.err.println("stasis: " + cache.warning());
            }
            // What dead coordinators left (sockets nobody listens on, plans of gone pids) goes now.
            removeStaleFiles(directory, options.name());
            timeline.mark("name held, stale files swept");
            NameLock held = nameLock;
            // Everything of this coordinator is gone (a throwaway cache too) before the name is free again.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                runtime.stop();
                held.close();
            }, "stasis-stop"));
            runtime.start();
            if (!awaitAnswer(socket)) {
                runtime.stop();
                nameLock.close();
                System.err.println("stasis: cannot start coordinator '" + options.name()
                        + "': its control socket did not open (see the errors above)");
                return 1;
            }
            timeline.mark("control socket answers");
            System.err.println("stasis: coordinator '" + options.name() + "' ready; control socket " + socket
                    + "; plugins from " + options.pluginsDirectory());
        } catch (Exception e) {
            System.err.println("stasis: cannot start coordinator '" + options.name() + "': " + e.getMessage());
            return 1;
        }
        try {
            runtime.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runtime.stop();
        nameLock.close();
        return 0;
    }

    // The name is held by a coordinator that is starting (it will answer soon: give way to
    // it) or stopping (it answers no more and lets go soon: take over). Null: give way.
    private static NameLock awaitName(Path lockFile, Path socket) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + NAME_WAIT_NANOS;
        for (;;) {
            NameLock lock = NameLock.tryAcquire(lockFile);
            if (lock != null) {
                return lock;
            }
            if (answers(socket) || System.nanoTime() > deadline) {
                return null;
            }
            Thread.sleep(20);
        }
    }

    private static void removeStaleFiles(RuntimeDirectory directory, String name) {
        try {
            StaleFiles.sweep(directory.path()).forEach(f -> System.err.println("stasis: removed " + f
                    + " (left by a coordinator that is gone)"));
            NameLock.sweep(directory.path(), name); // unused names' lock files: not worth a line
        } catch (IOException e) {
            System.err.println("stasis: cannot look for stale files in " + directory.path() + ": " + e.getMessage()
                    + "; starting anyway");
        }
    }

    // The control server opens its socket while the framework starts; a failure there
    // (a --listen address in use, say) stops the framework instead.
    private static boolean awaitAnswer(Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (answers(socket)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    private static boolean answers(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            return false;
        }
    }

    private static String nameOption(LaunchOptions options) {
        return options.name().equals("default") ? "" : " --name " + options.name();
    }

}
