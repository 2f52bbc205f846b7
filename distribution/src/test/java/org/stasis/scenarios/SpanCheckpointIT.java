package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.cli.StasisCli;

/**
 * A computation that spans two "hosts" (doc/several-hosts.md), simulated on this
 * machine by two runtime directories: a main coordinator listening on 127.0.0.1 and a
 * member coordinator that {@code stasis launch --coordinator} starts and joins to it.
 * Each part is a counter; one checkpoint on the main takes both parts.
 */
class SpanCheckpointIT {
    private static final Pattern COUNT = Pattern.compile("count (\\d+)");
    private static final String COUNTER = Computation.SCENARIOS.resolve("counter").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    private StasisCli hostA;
    private StasisCli hostB;
    private Path checkpointsA;
    private Path checkpointsB;
    private long mainPid;
    private int port;
    private final List<Process> started = new ArrayList<>();
    private final List<Long> coordinators = new ArrayList<>();

    @BeforeEach
    void startMain() throws IOException {
        hostA = new StasisCli(privateDirectory("runA"));
        hostB = new StasisCli(privateDirectory("runB"));
        checkpointsA = temp.resolve("ckA");
        checkpointsB = temp.resolve("ckB");
        StasisCli.Result main = hostA.run("coordinator", "--daemon", "--name", "main", "--ckpt-dir",
                checkpointsA.toString(), "--listen", "127.0.0.1:0", "--host-name", "h1");
        assertEquals(0, main.status(), main.toString());
        mainPid = pidIn(main.out());
        coordinators.add(mainPid);
        Matcher tcp = Pattern.compile("TCP 127\\.0\\.0\\.1:(\\d+)").matcher(main.out());
        assertTrue(tcp.find(), main.toString());
        port = Integer.parseInt(tcp.group(1));
    }

    @AfterEach
    void stopAll() throws Exception {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        try {
            killEverything();
        } catch (Exception | AssertionError e) {
            // a coordinator may be gone already
        }
        hostA.run("shutdown", "--name", "main");
        hostB.run("shutdown", "--name", memberName());
        hostA.run("shutdown", "--name", "default");
        hostB.run("shutdown", "--name", "default");
        for (long pid : coordinators) {
            ProcessHandle.of(pid).ifPresent(p -> {
                signal("-CONT", pid);
                p.destroyForcibly();
            });
        }
    }

    private Path privateDirectory(String name) throws IOException {
        return Files.createDirectory(temp.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    private static long pidIn(String said) {
        Matcher m = Pattern.compile("\\(pid (\\d+),").matcher(said);
        assertTrue(m.find(), said);
        return Long.parseLong(m.group(1));
    }

    private String memberName() {
        return "span-127.0.0.1-" + port;
    }

    private Path mainToken() {
        return temp.resolve("runA").resolve("main.token");
    }

    private Process launchMain(Path output, String count) throws IOException {
        Process p = hostA.start(output, "launch", "--name", "main", "--", COUNTER, count, "30");
        started.add(p);
        return p;
    }

    // The member coordinator is started by the launch; its pid is on the launch's first line.
    private Process launchMember(Path output, String count) throws Exception {
        Process p = hostB.start(output, "launch", "--coordinator", "127.0.0.1:" + port, "--token-file",
                mainToken().toString(), "--host-name", "h2", "--ckpt-dir", checkpointsB.toString(), "--", COUNTER, count,
                "30");
        started.add(p);
        String ready = Computation.awaitLine(output, l -> l.contains("is ready (pid"), Duration.ofSeconds(60));
        coordinators.add(pidIn(ready));
        return p;
    }

    private long memberPid() {
        return coordinators.get(coordinators.size() - 1);
    }

    private static int lastCount(Path output) throws IOException {
        int last = -1;
        for (String line : Files.readAllLines(output)) {
            Matcher m = COUNT.matcher(line);
            if (m.matches()) {
                last = Integer.parseInt(m.group(1));
            }
        }
        return last;
    }

    private static void signal(String which, long pid) {
        try {
            new ProcessBuilder("kill", which, Long.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<Path> published(Path checkpoints) throws IOException {
        Path c1 = checkpoints.resolve("c1");
        if (!Files.isDirectory(c1)) {
            return List.of();
        }
        try (Stream<Path> all = Files.list(c1)) {
            return all.filter(p -> !p.getFileName().toString().equals("latest")).toList();
        }
    }

    private void twoPartsCounting(Path outA, Path outB, String count) throws Exception {
        launchMain(outA, count);
        Computation.awaitProgress(outA, 0, COUNT, 3);
        launchMember(outB, count);
        Computation.awaitProgress(outB, 0, COUNT, 3);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        String status;
        JsonNode parts;
        do {
            Thread.sleep(100);
            status = hostA.run("status", "--name", "main", "--json").out();
            parts = JSON.readTree(status).path("computations").path(0).path("parts");
        } while (parts.path(0).path("pids").size() == 0 && System.nanoTime() < deadline);
        assertEquals(1, parts.size(), status);
        assertEquals("h2", parts.get(0).path("host").asText(), status);
        assertEquals("c1", parts.get(0).path("part").asText(), status);
        assertEquals("running", parts.get(0).path("state").asText(), status);
        assertEquals(1, parts.get(0).path("pids").size(), status);
    }

    @Test
    void oneCheckpointTakesBothPartsAndEachPartRestartsOnItsOwn() throws Exception {
        Path outA = temp.resolve("a.txt");
        Path outB = temp.resolve("b.txt");
        twoPartsCounting(outA, outB, "400");

        int beforeA = lastCount(outA);
        int beforeB = lastCount(outB);
        StasisCli.Result checkpoint = hostA.run("checkpoint", "--name", "main");
        assertEquals(0, checkpoint.status(), checkpoint.toString());
        List<String> lines = checkpoint.out().strip().lines().toList();
        Path mainCheckpoint = Path.of(lines.get(lines.size() - 1));
        JsonNode manifest = JSON.readTree(mainCheckpoint.resolve("manifest.json").toFile());
        JsonNode parts = manifest.path("parts");
        assertEquals(1, parts.size(), manifest.toString());
        assertEquals("h2", parts.get(0).path("host").asText());
        assertEquals(1, parts.get(0).path("processes").asInt());
        Path partCheckpoint = Path.of(parts.get(0).path("path").asText());
        assertTrue(partCheckpoint.startsWith(checkpointsB), partCheckpoint.toString());
        JsonNode partManifest = JSON.readTree(partCheckpoint.resolve("manifest.json").toFile());
        assertEquals(manifest.path("id").asText(), partManifest.path("span").asText(), "the part names its span");

        StasisCli.Result verify = hostA.run("verify", mainCheckpoint.toString());
        assertEquals(0, verify.status(), verify.toString());
        assertTrue(verify.out().contains("h2"), "verify follows the part: " + verify);
        StasisCli.Result info = hostA.run("info", mainCheckpoint.toString());
        assertEquals(0, info.status(), info.toString());
        assertTrue(info.out().contains(partCheckpoint.toString()), "info lists the part: " + info);
        // A part this host cannot read: verify and list say which, in one line each.
        Path away = partCheckpoint.resolveSibling("away");
        Files.move(partCheckpoint, away);
        try {
            StasisCli.Result unreadable = hostA.run("verify", mainCheckpoint.toString());
            assertEquals(0, unreadable.status(), unreadable.toString());
            assertTrue(unreadable.out().contains("part h2: " + partCheckpoint + " cannot be read on this host"),
                    unreadable.toString());
            StasisCli.Result list = hostA.run("list", "--ckpt-dir", checkpointsA.toString());
            assertTrue(list.out().contains("1 + 1 on h2") && list.out().contains("part h2 not readable on this host"),
                    list.toString());
        } finally {
            Files.move(away, partCheckpoint);
        }

        Thread.sleep(500);    // both run on past the checkpoint
        assertEquals(0, hostA.run("kill", "--name", "main").status());
        assertEquals(0, hostB.run("kill", "--name", memberName()).status());
        for (Process p : started) {
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "a killed part did not end");
        }
        int killedA = lastCount(outA);
        int killedB = lastCount(outB);
        int linesA = Computation.lineCount(outA);
        int linesB = Computation.lineCount(outB);

        Process restartA = hostA.start(outA, "restart", mainCheckpoint.toString());
        Process restartB = hostB.start(outB, "restart", partCheckpoint.toString());
        started.add(restartA);
        started.add(restartB);
        int resumedA = Computation.awaitProgress(outA, linesA, COUNT, 0);
        int resumedB = Computation.awaitProgress(outB, linesB, COUNT, 0);
        assertTrue(resumedA > beforeA && resumedA <= killedA, "part h1 resumed at " + resumedA + ", checkpointed"
                + " after " + beforeA + ", killed at " + killedA);
        assertTrue(resumedB > beforeB && resumedB <= killedB, "part h2 resumed at " + resumedB + ", checkpointed"
                + " after " + beforeB + ", killed at " + killedB);
        Computation.assertFinished(restartA, outA, "OK counter 400");
        Computation.assertFinished(restartB, outB, "OK counter 400");
    }

    // Restart --hosts: first on the hosts they ran on (the parts join the restarted computation again, so the next
    // checkpoint takes both), then both on the main's host.
    @Test
    void aSpanningCheckpointRestartsOnItsHostsThenAllOnTheMainsHost() throws Exception {
        Path outA = temp.resolve("a.txt");
        Path outB = temp.resolve("b.txt");
        launchMain(outA, "100000");
        Computation.awaitProgress(outA, 0, COUNT, 3);
        Process member = hostB.start(outB, "launch", "--coordinator", "127.0.0.1:" + port, "--token-file",
                mainToken().toString(), "--host-name", "h2", "--ckpt-dir", checkpointsB.toString(),
                "--keep-coordinator", "--", COUNTER, "100000", "30");
        started.add(member);
        coordinators.add(pidIn(Computation.awaitLine(outB, l -> l.contains("is ready (pid"), Duration.ofSeconds(60))));
        Computation.awaitProgress(outB, 0, COUNT, 3);
        Path first = checkpointOf(hostA.run("checkpoint", "--name", "main"));

        for (String hosts : List.of("h1,h2", "h1")) {
            killEverything();
            StasisCli.Result unknown = hostA.run("restart", "--name", "main", "--hosts", "h1,h9", first.toString());
            assertEquals(1, unknown.status(), unknown.toString());
            assertTrue(unknown.err().startsWith("stasis: unknown host h9"), unknown.toString());
            StasisCli.Result unplaced = hostA.run("restart", "--name", "main", "--hosts", "h1", "--map", "h1=h1",
                    first.toString());
            assertEquals(1, unplaced.status(), unplaced.toString());
            assertTrue(unplaced.err().contains("part h2 is not placed"), unplaced.toString());
            assertEquals("", hostA.run("status", "--name", "main", "--json").out().contains("\"hostPid\"")
                    ? "a process runs" : "", "a wrong placement started something");

            int linesA = Computation.lineCount(outA);
            int linesB = Computation.lineCount(outB);
            started.add(hostA.start(outA, "restart", "--name", "main", "--hosts", hosts, first.toString()));
            int a = Computation.awaitProgress(outA, linesA, COUNT, 0);
            int b = Computation.awaitProgress(outB, linesB, COUNT, 0);
            Computation.awaitProgress(outA, linesA, COUNT, a + 3);
            Computation.awaitProgress(outB, linesB, COUNT, b + 3);
            if (hosts.equals("h1,h2")) {
                Path second = checkpointOf(hostA.run("checkpoint", "--name", "main"));
                JsonNode parts = JSON.readTree(second.resolve("manifest.json").toFile()).path("parts");
                assertEquals(1, parts.size(), "the restarted part joined the restarted computation: " + parts);
            }
        }
        killEverything();
    }

    private static final String SERVER = """
            import socket, sys, time
            port, n = int(sys.argv[1]), int(sys.argv[2])
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(1)
            c, _ = s.accept()
            for i in range(1, n + 1):
                c.sendall(b"%d\\n" % i)
                if i % 50 == 0:
                    print("sent", i, flush=True)
                time.sleep(0.01)
            c.close()
            print("OK server", n, flush=True)
            """;
    private static final String CLIENT = """
            import socket, sys, time
            port, n = int(sys.argv[1]), int(sys.argv[2])
            c = socket.socket()
            c.bind(("127.0.0.2", 0))
            for _ in range(100):
                try:
                    c.connect(("127.0.0.1", port))
                    break
                except OSError:
                    time.sleep(0.1)
            expect = 1
            for line in c.makefile("rb"):
                if int(line) != expect:
                    print("FAIL got", int(line), "expected", expect, flush=True)
                    sys.exit(1)
                if expect % 50 == 0:
                    print("got", expect, flush=True)
                expect += 1
            print("OK client" if expect - 1 == n else "FAIL client", expect - 1, flush=True)
            """;

    // A TCP connection from a process of the member's part (127.0.0.2) to one of the main's: drained between the
    // parts at the checkpoint (the socket plugin's exchanges), rebuilt at the restart across both hosts; every
    // number arrives once, in order.
    @Test
    void aConnectionBetweenPartsComesBackWithARestartAcrossHosts() throws Exception {
        ConnectedParts parts = connectedParts();
        Path checkpoint = checkpointOf(hostA.run("checkpoint", "--name", "main"));
        assertEquals(1, JSON.readTree(checkpoint.resolve("manifest.json").toFile()).path("parts").size());
        restartWithTheServerHere(parts, checkpoint, "h1,h2");
    }

    @Test
    void aConnectionBetweenPartsComesBackWithBothPartsRestartedOnTheMainsHost() throws Exception {
        ConnectedParts parts = connectedParts();
        Path checkpoint = checkpointOf(hostA.run("checkpoint", "--name", "main"));
        // both parts on h1 (the main's host): two restorers of one coordinator at once
        restartWithTheServerHere(parts, checkpoint, "h1");
    }

    // Both parts on the member's host: the member restarts them at once, their exchanges through the main.
    @Test
    void aConnectionBetweenPartsComesBackWithBothPartsRestartedOnAMember() throws Exception {
        ConnectedParts parts = connectedParts();
        Path outA = parts.outA();
        Path outB = parts.outB();
        Path checkpoint = checkpointOf(hostA.run("checkpoint", "--name", "main"));
        killEverything();
        int linesA = Computation.lineCount(outA);
        int linesB = Computation.lineCount(outB);
        StasisCli.Result restart = hostA.run("restart", "--name", "main", "--hosts", "h2", checkpoint.toString());
        assertEquals(0, restart.status(), restart.toString());
        Computation.awaitLine(outA, linesA, l -> l.startsWith("OK server") || l.startsWith("Traceback"),
                Duration.ofSeconds(60));
        Computation.awaitLine(outB, linesB, l -> l.startsWith("OK client") || l.startsWith("FAIL"),
                Duration.ofSeconds(60));
        List<String> server1 = Files.readAllLines(outA).stream().skip(linesA).toList();
        List<String> client1 = Files.readAllLines(outB).stream().skip(linesB).toList();
        assertTrue(server1.contains("OK server 1500"), "the server after the restart:\n" + String.join("\n", server1));
        assertTrue(client1.contains("OK client 1500"), "the client after the restart:\n" + String.join("\n", client1));
    }

    /** The server in the main's part and its client in the member's, their outputs. */
    private record ConnectedParts(Path outA, Path outB) {
    }

    // The server on the main's host, its client on the member's (127.0.0.2), 200 numbers through already.
    private ConnectedParts connectedParts() throws Exception {
        Path server = Files.writeString(temp.resolve("server.py"), SERVER);
        Path client = Files.writeString(temp.resolve("client.py"), CLIENT);
        int tcp;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            tcp = free.getLocalPort();
        }
        Path outA = temp.resolve("a.txt");
        Path outB = temp.resolve("b.txt");
        started.add(hostA.start(outA, "launch", "--name", "main", "--", "/usr/bin/python3", server.toString(),
                Integer.toString(tcp), "1500"));
        started.add(hostB.start(outB, "launch", "--coordinator", "127.0.0.1:" + port, "--token-file",
                mainToken().toString(), "--host-name", "h2", "--ckpt-dir", checkpointsB.toString(),
                "--keep-coordinator", "--", "/usr/bin/python3", client.toString(), Integer.toString(tcp), "1500"));
        coordinators.add(pidIn(Computation.awaitLine(outB, l -> l.contains("is ready (pid"), Duration.ofSeconds(60))));
        Computation.awaitLine(outB, l -> l.equals("got 200"), Duration.ofSeconds(60));
        return new ConnectedParts(outA, outB);
    }

    // Kills both parts, restarts the checkpoint on HOSTS with the main's part (the server) in the foreground
    // here: the server ends OK, and the client after the restart too.
    private void restartWithTheServerHere(ConnectedParts parts, Path checkpoint, String hosts) throws Exception {
        killEverything();
        int linesB = Computation.lineCount(parts.outB());
        Process restart = hostA.start(parts.outA(), "restart", "--name", "main", "--hosts", hosts,
                checkpoint.toString());
        started.add(restart);
        Computation.assertFinished(restart, parts.outA(), "OK server 1500");
        Computation.awaitLine(parts.outB(), linesB, l -> l.startsWith("OK client") || l.startsWith("FAIL"),
                Duration.ofSeconds(60));
        List<String> after = Files.readAllLines(parts.outB()).stream().skip(linesB).toList();
        assertTrue(after.contains("OK client 1500"), "the client after the restart:\n" + String.join("\n", after));
    }

    private static Path checkpointOf(StasisCli.Result checkpoint) {
        assertEquals(0, checkpoint.status(), checkpoint.toString());
        List<String> lines = checkpoint.out().strip().lines().toList();
        return Path.of(lines.get(lines.size() - 1));
    }

    // Every computation of both coordinators, by their own kill command.
    private void killEverything() throws Exception {
        for (StasisCli host : List.of(hostA, hostB)) {
            String name = host == hostA ? "main" : memberName();
            JsonNode status = JSON.readTree(host.run("status", "--name", name, "--json").out());
            for (JsonNode c : status.path("computations")) {
                host.run("kill", "--name", name, "--computation", c.path("id").asText());
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((hostA.run("status", "--name", "main", "--json").out().contains("\"hostPid\"")
                || hostB.run("status", "--name", memberName(), "--json").out().contains("\"hostPid\""))
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        Thread.sleep(1_500);   // the member tells the main its parts are gone
    }

    @Test
    void aProgramOfAMemberPartAsksAndTheMainCheckpointsEveryPart() throws Exception {
        Path outA = temp.resolve("a.txt");
        Path outB = temp.resolve("b.txt");
        launchMain(outA, "100000");
        Computation.awaitProgress(outA, 0, COUNT, 3);
        Process self = hostB.start(outB, "launch", "--coordinator", "127.0.0.1:" + port, "--token-file",
                mainToken().toString(), "--host-name", "h2", "--ckpt-dir", checkpointsB.toString(), "--",
                Computation.SCENARIOS.resolve("selfckpt").toString(), "60", "30", "50");
        started.add(self);
        coordinators.add(pidIn(Computation.awaitLine(outB, l -> l.contains("is ready (pid"), Duration.ofSeconds(60))));
        Computation.assertFinished(self, outB, "OK selfckpt 60 resumed pid 2");
        assertEquals(1, published(checkpointsA).size(), "the main took the checkpoint the part asked for");
        assertEquals(1, published(checkpointsB).size(), "the part is in it");
        JsonNode manifest = JSON.readTree(published(checkpointsA).get(0).resolve("manifest.json").toFile());
        assertEquals(published(checkpointsB).get(0).toString(), manifest.path("parts").path(0).path("path").asText());
    }

    @Test
    void aWrongTokenIsRefusedLoggedAndNothingRuns() throws Exception {
        Path bad = Files.writeString(temp.resolve("bad.token"), "0123456789abcdef0123456789abcdef\n");
        Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("rw-------"));
        Path out = temp.resolve("marker");
        StasisCli.Result launch = hostB.run("launch", "--coordinator", "127.0.0.1:" + port, "--token-file",
                bad.toString(), "--host-name", "h2", "--", "touch", out.toString());
        assertEquals(1, launch.status(), launch.toString());
        assertEquals(1, launch.err().strip().lines().count(), "one line: " + launch);
        assertTrue(launch.err().contains("refused the token"), launch.toString());
        assertTrue(!Files.exists(out), "the program ran");
        assertTrue(hostB.run("ping", "-q", "--name", memberName()).status() != 0, "a member coordinator started");
        String events = hostA.run("events", "--name", "main").out();
        assertTrue(events.contains("refused a TCP control connection from /127.0.0.1: wrong token"), events);
    }

    @Test
    void aMemberKilledDuringTheCheckpointAbortsItEverywhere() throws Exception {
        Path outA = temp.resolve("a.txt");
        Path outB = temp.resolve("b.txt");
        twoPartsCounting(outA, outB, "100000");
        // The member hangs (it cannot answer), then dies while the main waits at a barrier.
        signal("-STOP", memberPid());
        Path said = temp.resolve("checkpoint.txt");
        Process checkpoint = hostA.start(said, "checkpoint", "--name", "main");
        started.add(checkpoint);
        Thread.sleep(1_500);
        signal("-KILL", memberPid());
        assertTrue(checkpoint.waitFor(30, TimeUnit.SECONDS), "the checkpoint did not end");
        assertEquals(1, checkpoint.exitValue(), Files.readString(said));
        assertTrue(Files.readString(said).contains("the link to host h2 was lost"), Files.readString(said));
        assertEquals(List.of(), published(checkpointsA), "the main published a checkpoint");
        assertEquals(List.of(), published(checkpointsB), "the member published its part");
        int a = lastCount(outA);
        int b = lastCount(outB);
        Computation.awaitProgress(outA, 0, COUNT, a + 3);
        Computation.awaitProgress(outB, 0, COUNT, b + 3);
        StasisCli.Result again = hostA.run("checkpoint", "--name", "main");
        assertEquals(1, again.status(), again.toString());
        assertTrue(again.err().contains("part c1 on host h2 is unreachable"), again.toString());
    }

    @Test
    void anUnreachableMemberAbortsTheCheckpointAfterTenSecondsOfSilence() throws Exception {
        Path outA = temp.resolve("a.txt");
        Path outB = temp.resolve("b.txt");
        twoPartsCounting(outA, outB, "100000");
        signal("-STOP", memberPid());
        try {
            StasisCli.Result checkpoint = hostA.run("checkpoint", "--name", "main");
            assertEquals(1, checkpoint.status(), checkpoint.toString());
            assertTrue(checkpoint.err().contains("no word from"), checkpoint.toString());
        } finally {
            signal("-CONT", memberPid());
        }
        assertEquals(List.of(), published(checkpointsA), "the main published a checkpoint");
        Thread.sleep(2_000);  // the member woke up to a closed link: it must not publish its part
        assertEquals(List.of(), published(checkpointsB), "the member published its part");
        int a = lastCount(outA);
        int b = lastCount(outB);
        Computation.awaitProgress(outA, 0, COUNT, a + 3);
        Computation.awaitProgress(outB, 0, COUNT, b + 3);
        // Awake again, the member joins again with its part: the next checkpoint takes both.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!hostA.run("status", "--name", "main", "--json").out().contains("\"state\" : \"running\"")
                && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        Path checkpoint = checkpointOf(hostA.run("checkpoint", "--name", "main"));
        assertEquals(1, JSON.readTree(checkpoint.resolve("manifest.json").toFile()).path("parts").size());
    }
}
