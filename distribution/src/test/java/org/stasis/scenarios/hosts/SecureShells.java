package org.stasis.scenarios.hosts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assumptions;

/**
 * An sshd on every simulated host (Debian {@code openssh-server}), so that programs reach
 * other hosts the way they do on real ones: {@code ssh h2 COMMAND} (mpirun's launch path).
 * Keys are generated for the test in the harness's directory (one host key shared by
 * all hosts, one user key authorized for root on all of them); the client's
 * configuration ({@link #clientConfig()}, for {@code ssh -F}) knows them, so nothing in
 * the account's ~/.ssh is read or written. The sshds are processes of the hosts: closing
 * the {@link SimulatedHosts} kills them.
 */
public final class SecureShells {
    private static final Path SSHD = Path.of("/usr/sbin/sshd");
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private final Path directory;

    private SecureShells(Path directory) {
        this.directory = directory;
    }

    /** Skips the test unless sshd, ssh and ssh-keygen are installed. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(Files.isExecutable(SSHD), "no " + SSHD + " here (Debian openssh-server)");
        Assumptions.assumeTrue(Commands.run(List.of("ssh", "-V"), LIMIT).status() == 0,
                "no ssh here (Debian openssh-client)");
    }

    /**
     * Starts an sshd on port 22 of every host and waits until host 1 logs in to each.
     *
     * @param hosts the simulated hosts
     * @return the running shells
     * @throws IOException if keys or configuration cannot be written, or a host does not answer
     */
    public static SecureShells start(SimulatedHosts hosts) throws IOException, InterruptedException {
        Path directory = Files.createDirectories(hosts.directory().resolve("ssh"));
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
        SecureShells shells = new SecureShells(directory);
        shells.keys();
        shells.configure(hosts);
        // sshd's privilege separation directory (systemd makes it when it starts sshd; we do not)
        Files.createDirectories(Path.of("/run/sshd"));
        for (Host host : hosts.hosts()) {
            host.start(directory.resolve("sshd-" + host.name() + ".log"), SSHD.toString(), "-D", "-e", "-f",
                    shells.serverConfig(host).toString());
        }
        for (Host host : hosts.hosts()) {
            shells.awaitLogin(hosts.host(1), host);
        }
        return shells;
    }

    /** @return the configuration of the ssh client: {@code ssh -F} it */
    public Path clientConfig() {
        return directory.resolve("ssh_config");
    }

    /** @return {@code ssh -F <client config>}: mpirun's {@code plm_rsh_agent} */
    public String command() {
        return "ssh -F " + clientConfig();
    }

    private void keys() throws IOException {
        for (String key : List.of("host_key", "user_key")) {
            Commands.Result made = Commands.run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                    "stasis-test", "-f", directory.resolve(key).toString()), LIMIT);
            if (made.status() != 0) {
                throw new IOException("ssh-keygen failed: " + made);
            }
        }
        Files.copy(directory.resolve("user_key.pub"), directory.resolve("authorized_keys"));
    }

    private void configure(SimulatedHosts hosts) throws IOException {
        for (Host host : hosts.hosts()) {
            configureServer(host);
        }
        String hostKey = Files.readString(directory.resolve("host_key.pub")).strip();
        List<String> known = new ArrayList<>();
        for (Host host : hosts.hosts()) {
            known.add(host.name() + "," + host.address() + " " + hostKey);
        }
        Files.writeString(directory.resolve("known_hosts"), String.join("\n", known) + "\n");
        Files.writeString(directory.resolve("ssh_config"), String.join("\n",
                "Host *",
                "  IdentityFile " + directory.resolve("user_key"),
                "  UserKnownHostsFile " + directory.resolve("known_hosts"),
                "  StrictHostKeyChecking yes",
                "  BatchMode yes",
                "  LogLevel ERROR",
                ""));
    }

    private Path serverConfig(Host host) {
        return directory.resolve("sshd_config-" + host.name());
    }

    private void configureServer(Host host) throws IOException {
        Files.writeString(serverConfig(host), String.join("\n",
                "Port 22",
                "HostKey " + directory.resolve("host_key"),
                "PermitRootLogin prohibit-password",
                "AuthorizedKeysFile " + directory.resolve("authorized_keys"),
                // the keys live in a test directory, not in a home sshd would check
                "StrictModes no",
                "PidFile none",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                // what a login on a real host finds: the host's own runtime, data and cache directories
                "SetEnv XDG_RUNTIME_DIR=" + host.runtime() + " XDG_DATA_HOME=" + host.home().resolve(".local/share")
                        + " XDG_CACHE_HOME=" + host.home().resolve(".cache"),
                ""));
    }

    private void awaitLogin(Host from, Host to) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        Commands.Result last;
        do {
            last = from.run(LIMIT, "ssh", "-F", clientConfig().toString(), to.name(), "hostname");
            if (last.status() == 0 && last.out().strip().equals(to.name())) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new IOException("ssh from " + from.name() + " to " + to.name() + " did not log in: " + last);
    }
}
