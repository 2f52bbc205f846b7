package org.stasis.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's doors are its user's alone: the control socket (private runtime
 * directory, peer uid), the agent socket, the checkpoints (0700 directories, 0600
 * files), and the optional TCP listener (secret token). Checked against a real second
 * Unix user where that matters: those tests need root (as CI runs) and are skipped
 * otherwise; the rest run as anyone. Each test makes what it needs (the checkpoint, the
 * second user) if an earlier one did not, so one failure is not turned into skips.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityIT {
    private static final String NAME = "secit";
    private static final Path COUNTER = Path.of(System.getProperty("stasis.repo", ".."), "native", "target",
            "scenarios", "counter").toAbsolutePath().normalize();
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    /** Connects as told and prints one word about what happened; run as the other user. */
    private static final String PROBE = """
            import os, socket, sys
            what, arg = sys.argv[1], sys.argv[2]
            try:
                if what == "unix":
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(15)
                    s.connect(arg)
                    s.sendall(b"PING\\n")
                    print("answer", s.recv(100))
                elif what == "tcp":
                    host, port = arg.rsplit(":", 1)
                    s = socket.create_connection((host, int(port)), 15)
                    s.settimeout(15)
                    s.sendall(sys.argv[3].encode())
                    print("answer", s.recv(100))
                elif what == "list":
                    print("listed", os.listdir(arg))
                elif what == "read":
                    with open(arg, "rb") as f:
                        print("read", len(f.read()))
            except PermissionError as e:
                print("EACCES", e)
            except (ConnectionResetError, BrokenPipeError):
                print("answer b''")  # closed on us
            except Exception as e:
                print("error", type(e).__name__, e)
            """;

    @TempDir
    static Path temp;

    private static StasisCli cli;
    private static Path runtime;
    private static Path checkpoints;
    private static String address;
    private static long coordinatorPid;
    private static Process counter;
    private static Path checkpoint;
    private static String user;

    @BeforeAll
    static void start() throws Exception {
        // Everything on the way to the checkpoints is open, so only their own modes protect them.
        Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
        runtime = Files.createDirectory(temp.resolve("run"), PosixFilePermissions.asFileAttribute(DIRECTORY));
        checkpoints = Files.createDirectory(temp.resolve("checkpoints"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cli = new StasisCli(runtime);
        address = "127.0.0.1:" + freePort();
        StasisCli.Result started = cli.run("coordinator", "--daemon", "--name", NAME, "--ckpt-dir",
                checkpoints.toString(), "--listen", address);
        assertEquals(0, started.status(), started.toString());
        coordinatorPid = Long.parseLong(started.out().replaceAll("(?s).*\\(pid (\\d+),.*", "$1"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (counter != null) {
                cli.run("kill", "--name", NAME);
                counter.descendants().forEach(ProcessHandle::destroyForcibly);
                counter.destroyForcibly();
                counter.waitFor(10, TimeUnit.SECONDS);
            }
            if (cli != null) {
                cli.run("shutdown", "--name", NAME);
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (cli.run("ping", "-q", "--name", NAME).status() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                ProcessHandle.of(coordinatorPid).ifPresent(ProcessHandle::destroyForcibly);
            }
        } finally {
            if (user != null) {
                run(List.of("userdel", "--remove", user));
            }
        }
    }

    // --- TCP -------------------------------------------------------------------------------

    @Test
    @Order(1)
    void theTokenFileIsPrivate() throws Exception {
        Path token = runtime.resolve(NAME + ".token");
        assertEquals(FILE, Files.getPosixFilePermissions(token));
        assertTrue(Files.readString(token).strip().matches("[0-9a-f]{32,}"), Files.readString(token));
        assertTrue(log().contains("control over TCP on " + address), log());
    }

    @Test
    @Order(2)
    void execOverTcpWithTheTokenWorks() {
        StasisCli.Result version = cli.run("exec", "--connect", address, "--name", NAME, "stasis:version");
        assertEquals(0, version.status(), version.toString());
        assertTrue(version.out().contains("coordinator  " + NAME), version.toString());

        StasisCli.Result explicit = cli.run("version", "--connect", address, "--token-file",
                runtime.resolve(NAME + ".token").toString());
        assertEquals(0, explicit.status(), explicit.toString());
        assertTrue(explicit.out().contains("coordinator  " + NAME), explicit.toString());
    }

    @Test
    @Order(3)
    void aWrongTokenIsRefusedAndLogged() throws Exception {
        Path wrong = Files.writeString(temp.resolve("wrong.token"), "ab".repeat(32) + "\n");
        Files.setPosixFilePermissions(wrong, FILE);

        StasisCli.Result refused = cli.run("exec", "--connect", address, "--token-file", wrong.toString(),
                "stasis:version");

        assertEquals(1, refused.status(), refused.toString());
        assertEquals("", refused.out(), refused.toString());
        assertTrue(refused.err().startsWith("stasis: ") && refused.err().contains("refused the token"),
                refused.toString());
        awaitLog("refused a TCP control connection from /127.0.0.1:", "wrong token");
    }

    @Test
    @Order(4)
    void noTokenIsRefusedAndLogged() throws Exception {
        StasisCli.Result missing = cli.run("exec", "--connect", address, "--token-file",
                temp.resolve("no-such.token").toString(), "stasis:version");
        assertEquals(1, missing.status(), missing.toString());
        assertTrue(missing.err().startsWith("stasis: cannot read the token file"), missing.toString());

        // A client that skips the token line entirely gets nothing but a closed connection.
        assertEquals("", tcpExchange("EXEC 14\nstasis:version"));
        awaitLog("refused a TCP control connection from /127.0.0.1:", "missing token");
        // So does one whose first line never ends: it is read only up to a limit.
        assertEquals("", tcpExchange("TOKEN " + "a".repeat(5000)));
        awaitLog("refused a TCP control connection from /127.0.0.1:", "longer than");
    }

    // --- another user -----------------------------------------------------------------------

    @Test
    @Order(10)
    void aCheckpointIsPrivate() throws Exception {
        Path checkpoint = checkpoint();
        assertEquals(DIRECTORY, Files.getPosixFilePermissions(checkpoint), "checkpoint directory");
        assertEquals(FILE, Files.getPosixFilePermissions(checkpoint.resolve("manifest.json")), "manifest");
        List<Path> images;
        try (Stream<Path> files = Files.list(checkpoint)) {
            images = files.filter(p -> p.getFileName().toString().endsWith(".img")).toList();
        }
        assertFalse(images.isEmpty(), "no memory image in " + checkpoint);
        for (Path image : images) {
            assertEquals(FILE, Files.getPosixFilePermissions(image), image.toString());
        }
    }

    @Test
    @Order(11)
    void anotherUserCanNeitherCommandNorRead() throws Exception {
        Path checkpoint = checkpoint();
        String user = secondUser();
        Path probe = probe();
        Path image;
        try (Stream<Path> files = Files.list(checkpoint)) {
            image = files.filter(p -> p.getFileName().toString().endsWith(".img")).findFirst().orElseThrow();
        }

        assertDenied(probe, "unix", runtime.resolve(NAME + ".sock"));
        assertDenied(probe, "unix", runtime.resolve(NAME + ".agent.sock"));
        assertDenied(probe, "read", runtime.resolve(NAME + ".token"));
        assertDenied(probe, "list", checkpoint);
        assertDenied(probe, "read", checkpoint.resolve("manifest.json"));
        assertDenied(probe, "read", image);
        assertDenied(probe, "read", checkpoints.resolve("latest").resolve("manifest.json"));

        // The TCP listener is reachable, but not without the token.
        assertEquals("answer b''", asUser(probe, "tcp", address, "PING\n"));
        awaitLog("refused a TCP control connection", "missing token");
        assertEquals("answer b''", asUser(probe, "tcp", address, "TOKEN " + "0".repeat(64) + "\nPING\n"));
        Path guess = temp.resolve("guess.token");
        Files.writeString(guess, "12".repeat(32) + "\n");
        Files.setPosixFilePermissions(guess, FILE);
        run(List.of("chown", user, guess.toString()));
        StasisCli.Result client = run(List.of("runuser", "-u", user, "--", "env", "STASIS_RUNTIME_DIR=/nonexistent",
                stasis().toString(), "exec", "--connect", address, "--token-file", guess.toString(), "stasis:status"));
        assertEquals(1, client.status(), client.toString());
        assertTrue(client.err().contains("refused the token"), client.toString());
    }

    @Test
    @Order(12)
    void evenThroughAnOpenedDirectoryTheCoordinatorChecksThePeer() throws Exception {
        String user = secondUser();
        Path probe = probe();
        Path control = runtime.resolve(NAME + ".sock");
        Path agent = runtime.resolve(NAME + ".agent.sock");
        Set<PosixFilePermission> controlMode = Files.getPosixFilePermissions(control);
        Set<PosixFilePermission> agentMode = Files.getPosixFilePermissions(agent);
        try {
            // Suppose the user opened the directory and sockets by mistake: the uid check still holds.
            Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwx--x--x"));
            Files.setPosixFilePermissions(control, PosixFilePermissions.fromString("rwxrwxrwx"));
            Files.setPosixFilePermissions(agent, PosixFilePermissions.fromString("rwxrwxrwx"));

            assertEquals("answer b''", asUser(probe, "unix", control.toString()));
            awaitLog("refused a control connection from user " + user, "");
            asUser(probe, "unix", agent.toString());
            awaitLog("refused an agent of uid " + run(List.of("id", "-u", user)).out().strip(), "");
        } finally {
            Files.setPosixFilePermissions(runtime, DIRECTORY);
            Files.setPosixFilePermissions(control, controlMode);
            Files.setPosixFilePermissions(agent, agentMode);
        }
        StasisCli.Result status = cli.run("status", "--name", NAME);
        assertEquals(0, status.status(), "the coordinator still serves its own user: " + status);
    }

    // --- helpers ---------------------------------------------------------------------------

    private static void assertDenied(Path probe, String what, Path target) throws Exception {
        String answer = asUser(probe, what, target.toString());
        assertTrue(answer.startsWith("EACCES"), user + " could " + what + " " + target + ": " + answer);
    }

    private static String asUser(Path probe, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("runuser", "-u", user, "--", "python3", probe.toString()));
        command.addAll(List.of(args));
        StasisCli.Result result = run(command);
        assertEquals(0, result.status(), result.toString());
        return result.out().strip();
    }

    /** @return the program's first checkpoint, taken now if no test took it yet */
    private static Path checkpoint() throws Exception {
        if (checkpoint == null) {
            Path output = temp.resolve("counter.out");
            counter = cli.start(output, "launch", "--name", NAME, "--", COUNTER.toString(), "1000", "50");
            awaitLine(output, "count 3");
            StasisCli.Result result = cli.run("checkpoint", "--name", NAME);
            assertEquals(0, result.status(), result.toString());
            List<String> lines = result.out().strip().lines().toList();
            Path taken = Path.of(lines.get(lines.size() - 1));
            assertTrue(taken.startsWith(checkpoints), result.toString());
            checkpoint = taken;
        }
        return checkpoint;
    }

    /** @return a second Unix user, created now if no test did yet (needs root: skipped otherwise) */
    private static String secondUser() throws IOException {
        assumeTrue(isRoot(), "needs root to create a second user");
        if (user == null) {
            String candidate = "stasis-itest-" + UUID.randomUUID().toString().substring(0, 8);
            StasisCli.Result added = run(List.of("useradd", "--create-home", "--shell", "/bin/sh", candidate));
            assertEquals(0, added.status(), "useradd (Debian package passwd): " + added);
            user = candidate;
        }
        return user;
    }

    /** @return the probe script, readable by the second user */
    private static Path probe() throws IOException {
        Path probe = temp.resolve("probe.py");
        if (!Files.exists(probe)) {
            Files.writeString(probe, PROBE);
            Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rw-r--r--"));
        }
        return probe;
    }

    /** Sends bytes on a fresh TCP connection and returns what comes back before it closes. */
    private static String tcpExchange(String request) throws IOException {
        String[] hostPort = address.split(":");
        try (Socket socket = new Socket(InetAddress.getByName(hostPort[0]), Integer.parseInt(hostPort[1]))) {
            socket.setSoTimeout(20_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.net.SocketException e) {
                return ""; // reset: closed with our bytes unread
            }
        }
    }

    private static Path stasis() {
        return Path.of(System.getProperty("stasis.dist", "../dist"), "bin", "stasis").toAbsolutePath();
    }

    private static String log() throws IOException {
        Path log = runtime.resolve(NAME + ".log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private static void awaitLog(String line, String detail) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            if (log().lines().anyMatch(l -> l.contains(line) && l.contains(detail))) {
                return;
            }
            Thread.sleep(50);
        }
        fail("the coordinator's log has no line with '" + line + "' and '" + detail + "':\n" + log());
    }

    private static void awaitLine(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("no '" + text + "' in " + file + ":\n" + (Files.exists(file) ? Files.readString(file) : "(no file)"));
    }

    private static StasisCli.Result run(List<String> command) {
        try {
            Path out = Files.createTempFile(temp, "out", ".txt");
            Path err = Files.createTempFile(temp, "err", ".txt");
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not finish in 60 s");
            }
            return new StasisCli.Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean isRoot() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
