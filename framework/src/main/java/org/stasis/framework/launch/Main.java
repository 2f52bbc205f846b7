package org.stasis.framework.launch;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import org.stasis.framework.util.RuntimeDirectory;
import org.stasis.framework.util.StaleFiles;

/**
 * Entry point of {@code stasis coordinator}: checks that the name is free, boots the
 * OSGi runtime and keeps it running until it is shut down.
 */
public final class Main {
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
        FelixRuntime runtime;
        FileChannel nameLock;
        try {
            RuntimeDirectory directory = RuntimeDirectory.forCurrentUser().ensurePrivate();
            Path socket = directory.socket(options.name());
            // One coordinator per name: two started at the same moment both found no
            // socket, and the later one took the earlier one's socket away (that one
            // then ran on unreachable). The lock is held as long as this JVM runs.
            nameLock = FileChannel.open(directory.path().resolve(options.name() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (nameLock.tryLock() == null) {
                nameLock.close();
                System.err.println("stasis: coordinator '" + options.name() + "' is already starting or running");
                return 1;
            }
            if (answers(socket)) {
                System.err.println("stasis: coordinator '" + options.name() + "' is already running; stop it with: "
                        + "stasis exec" + nameOption(options) + " stasis:shutdown");
                return 1;
            }
            // What dead coordinators left (sockets nobody listens on, plans of gone pids) goes now.
            removeStaleFiles(directory);
            runtime = new FelixRuntime(options, directory, directory.path().resolve(options.name() + ".cache"));
            Runtime.getRuntime().addShutdownHook(new Thread(runtime::stop, "stasis-stop"));
            runtime.start();
            if (!awaitAnswer(socket)) {
                runtime.stop();
                System.err.println("stasis: cannot start coordinator '" + options.name()
                        + "': its control socket did not open (see the errors above)");
                return 1;
            }
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
        try {
            nameLock.close();
        } catch (IOException e) {
            // The lock goes with the process anyway.
        }
        return 0;
    }

    private static void removeStaleFiles(RuntimeDirectory directory) {
        try {
            StaleFiles.sweep(directory.path()).forEach(f -> System.err.println("stasis: removed " + f
                    + " (left by a coordinator that is gone)"));
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
