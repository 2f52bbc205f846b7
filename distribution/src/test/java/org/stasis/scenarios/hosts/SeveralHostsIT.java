package org.stasis.scenarios.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A computation that spans hosts (issue #16, doc/several-hosts.md), through the real
 * command line on hosts simulated by network namespaces ({@link SimulatedHosts}): the
 * main coordinator on host 1 listens on {@code 192.0.2.1:4100}; a service
 * (samples/several-hosts/service.py) runs under it on host 1, and workers on the other
 * hosts join the computation with {@code stasis launch --coordinator 192.0.2.1:4100
 * --token-file <host 1's token>}, streaming records to the service over TCP between
 * hosts. Each program checks itself: the service exits 0 only if every record of every
 * worker arrived exactly once and in order, each worker only if every acknowledgement did.
 */
@Timeout(400)
class SeveralHostsIT {
    private static final int COORDINATOR_PORT = 4100;
    private static final int SERVICE_PORT = 4200;
    /** stasis's default coordinator name: each host has its own runtime directory, so no --name. */
    private static final String COORDINATOR = "default";
    private static final Pattern PROGRESS = Pattern.compile("progress (\\d+)");
    private static final Pattern SENT = Pattern.compile("sent (\\d+)");
    private static final Pattern ROUND = Pattern.compile("round (\\d+)");
    private static final Duration MINUTE = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    @BeforeAll
    static void needsNamespaces() {
        SimulatedHosts.assumeAvailable();
    }

    /** The hosts of one test, the main coordinator on host 1, and what ran where. */
    private final class Span implements AutoCloseable {
        final SimulatedHosts hosts;
        final Host main;
        final List<Path> outputs = new ArrayList<>();

        Span(String label, int count) throws Exception {
            this.hosts = new SimulatedHosts(label, count);
            this.main = hosts.host(1);
            Commands.Result started = main.stasis("coordinator", "--daemon", "--listen",
                    main.address(COORDINATOR_PORT), "--ckpt-dir", main.checkpoints().toString());
            assertEquals(0, started.status(), "the main coordinator did not start: " + started);
            assertTrue(Files.isRegularFile(token()), "no token file " + token() + ": " + started);
        }

        Path token() {
            return main.token(COORDINATOR);
        }

        Path output(String name) {
            Path file = temp.resolve(name + ".txt");
            outputs.add(file);
            return file;
        }

        /** Starts service.py for {@code workers} workers of {@code records} records on host 1, ready. */
        Process service(Path output, int workers, int records) throws Exception {
            Process service = main.startStasis(output, launch(List.of(), Lines.program("service.py",
                    main.address(SERVICE_PORT), String.valueOf(workers), String.valueOf(records), "--progress",
                    "100")));
            Lines.await(output, 0, "ready"::equals, MINUTE, this::diagnostics, service);
            return service;
        }

        /** @return the options of {@code stasis launch} on {@code host} that join the main's computation */
        List<String> join(Host host) {
            return List.of("--coordinator", main.address(COORDINATOR_PORT), "--token-file", token().toString(),
                    "--ckpt-dir", host.checkpoints().toString());
        }

        /** Starts worker {@code number} on {@code host}, joined to the main's computation. */
        Process worker(Host host, Path output, int number, int records, List<String> moreOptions) throws Exception {
            List<String> options = new ArrayList<>(join(host));
            options.addAll(moreOptions);
            return host.startStasis(output, launch(options, Lines.program("worker.py", main.address(SERVICE_PORT),
                    String.valueOf(number), String.valueOf(records), "--progress", "100", "--hold",
                    go().toString())));
        }

        Path go() {
            return temp.resolve("go");
        }

        /**
         * Starts ring.py's 4 nodes, 0 and 1 on host 1 (the main's computation), 2 and 3 on
         * {@code two} joined to it (with {@code moreOptions}), and waits for round 20.
         */
        Ring ring(Host two, int rounds, List<String> moreOptions, String... ringOptions) throws Exception {
            String ring = String.join(",", main.address(4301), main.address(4302), two.address(4303),
                    two.address(4304));
            Path firstOut = output("ring-h1");
            Path secondOut = output("ring-h2");
            String[] common = concat(new String[] {"--ring", ring, "--rounds", String.valueOf(rounds), "--hold",
                go().toString()}, ringOptions);
            Process first = main.startStasis(firstOut, launch(List.of(), Lines.program("ring.py",
                    concat(common, "--nodes", "0,1"))));
            List<String> options = new ArrayList<>(join(two));
            options.addAll(moreOptions);
            Process second = two.startStasis(secondOut, launch(options, Lines.program("ring.py",
                    concat(common, "--nodes", "2,3"))));
            int seen = Lines.awaitProgress(firstOut, ROUND, 20, MINUTE, this::diagnostics, first);
            return new Ring(first, firstOut, second, secondOut, seen);
        }

        /**
         * Checkpoints the whole computation from host 1.
         *
         * @return the main's published checkpoint directory (the command's last line)
         */
        Path checkpoint() throws IOException {
            Commands.Result result = main.stasis("checkpoint");
            assertEquals(0, result.status(), "the checkpoint failed: " + result + diagnostics());
            List<String> lines = result.out().strip().lines().toList();
            Path directory = Path.of(lines.get(lines.size() - 1));
            assertTrue(Files.isRegularFile(directory.resolve("manifest.json")), result.toString());
            return directory;
        }

        /** Everything that helps to understand a failure: every output and every host's coordinator logs. */
        String diagnostics() {
            return hosts.diagnostics(outputs);
        }

        @Override
        public void close() throws Exception {
            hosts.close();
        }
    }

    /** ring.py's nodes 0 and 1 ({@code first}) and 2 and 3, and the round node 0 had reached. */
    private record Ring(Process first, Path firstOut, Process second, Path secondOut, int seen) {
    }

    private static String[] launch(List<String> options, String... program) {
        List<String> args = new ArrayList<>(List.of("launch"));
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(program));
        return args.toArray(String[]::new);
    }

    private static void assertFinished(Process process, Path output, String ok, Span span) throws Exception {
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "did not finish: " + output + span.diagnostics());
        assertEquals(0, process.exitValue(), "exit status of " + output + span.diagnostics());
        assertTrue(Lines.read(output).stream().anyMatch(l -> l.startsWith(ok)), "no " + ok + span.diagnostics());
    }

    /** @return every manifest.json under {@code top} (published or not) */
    private static List<Path> manifests(Path top) throws IOException {
        if (!Files.exists(top)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(top)) {
            return walk.filter(p -> p.getFileName().toString().equals("manifest.json")).toList();
        }
    }

    /**
     * A service on host 1 and a worker on each of hosts 2 and 3 (host 2's part named by
     * its host name, the default; host 3's by {@code --host-name}): three checkpoints
     * while the records stream both ways, each one checkpoint of the whole computation
     * whose manifest lists a part per member host, each part published on its host with
     * the span's id; then the stream runs to its end with every record exactly once.
     */
    @Test
    void recordsStreamingBetweenHostsArriveExactlyOnceThroughCheckpoints() throws Exception {
        int records = 4000;
        try (Span span = new Span("span", 3)) {
            Host two = span.hosts.host(2);
            Host three = span.hosts.host(3);
            Path serviceOut = span.output("service");
            Path oneOut = span.output("worker1");
            Path twoOut = span.output("worker2");
            Process service = span.service(serviceOut, 2, records);
            Process worker1 = span.worker(two, oneOut, 1, records, List.of());
            Process worker2 = span.worker(three, twoOut, 2, records, List.of("--host-name", three.name()));
            Lines.await(oneOut, 0, SENT.asMatchPredicate(), MINUTE, span::diagnostics, worker1);
            Lines.await(twoOut, 0, SENT.asMatchPredicate(), MINUTE, span::diagnostics, worker2);

            int seen = Lines.awaitProgress(serviceOut, PROGRESS, 400, MINUTE, span::diagnostics, service);
            for (int generation = 1; generation <= 3; generation++) {
                Path checkpoint = span.checkpoint();
                assertSpans(checkpoint, Set.of(two, three), span);
                // The stream goes on after each checkpoint, and had not ended before it.
                seen = Lines.awaitProgress(serviceOut, PROGRESS, seen + 300, MINUTE, span::diagnostics, service);
            }
            assertTrue(seen < 2 * records, "the stream ended before the checkpoints: make it longer");
            Files.createFile(span.go());
            assertFinished(worker1, oneOut, "OK worker 1 " + records, span);
            assertFinished(worker2, twoOut, "OK worker 2 " + records, span);
            assertFinished(service, serviceOut, "OK service 2 workers " + records + " records each", span);
        }
    }

    /**
     * The service on host 1 and a worker on host 2, checkpointed while the records
     * stream, everything killed on both hosts and restarted from host 1, three
     * generations, each from a checkpoint of the computation as the previous restart
     * left it, in changing placements: on both hosts ({@code --hosts h1,h2}), all on host 1
     * ({@code --hosts h1}: the worker's part beside the service's, still one computation),
     * back on both hosts. The connection between the parts comes back with what was in
     * flight each time, and the stream runs to its end with every record exactly once.
     */
    @Test
    void recordsBetweenHostsArriveExactlyOnceThroughThreeGenerationsOfRestartInChangingPlacements()
            throws Exception {
        int records = 6000;
        List<String> placements = List.of("h1,h2", "h1", "h1,h2");
        try (Span span = new Span("restart", 2)) {
            Host two = span.hosts.host(2);
            Path serviceOut = span.output("service");
            Path workerOut = span.output("worker1");
            Process service = span.service(serviceOut, 1, records);
            // The member coordinator must outlive its part's processes: it restarts the part.
            Process worker = span.worker(two, workerOut, 1, records, List.of("--keep-coordinator"));
            int seen = Lines.awaitProgress(serviceOut, PROGRESS, 300, MINUTE, span::diagnostics, service);
            Process running = service;
            int serviceLines = 0;
            int workerLines = 0;
            for (int generation = 1; generation <= placements.size(); generation++) {
                Path checkpoint = span.checkpoint();
                seen = Lines.awaitProgress(serviceOut, serviceLines, PROGRESS, seen + 200, MINUTE, span::diagnostics,
                        running);
                span.hosts.killEveryComputation(true);
                assertTrue(running.waitFor(30, TimeUnit.SECONDS), "the killed service did not end");
                if (generation == 1) {
                    assertTrue(worker.waitFor(30, TimeUnit.SECONDS), "the killed worker did not end");
                }
                // (A kill is per host: the side killed second may say FAIL about its dead peer
                // before it dies. The restarted processes come from the checkpoint: lines are
                // checked from the restart on.)
                serviceLines = Lines.count(serviceOut);
                workerLines = Lines.count(workerOut);
                running = span.main.startStasis(serviceOut, "restart", "--hosts", placements.get(generation - 1),
                        checkpoint.toString());
                Lines.await(serviceOut, serviceLines, ("restarted service " + generation)::equals, MINUTE,
                        span::diagnostics, running);
                Lines.await(workerOut, workerLines, ("restarted worker 1 " + generation)::equals, MINUTE,
                        span::diagnostics, running);
                seen = Lines.awaitProgress(serviceOut, serviceLines, PROGRESS, seen + 200, MINUTE, span::diagnostics,
                        running);
            }
            assertTrue(seen < records, "the stream ended before the restarts: make it longer");
            Files.createFile(span.go());
            assertFinished(running, serviceOut, "OK service 1 workers " + records + " records each", span);
            Lines.await(workerOut, workerLines, ("OK worker 1 " + records + " records")::equals, MINUTE,
                    span::diagnostics);
        }
    }



    /**
     * A ring of 4 processes, 2 on each of two hosts (nodes 0 and 1 on host 1 under the
     * main, 2 and 3 on host 2 in a part), passing a token with a running checksum over
     * TCP, two of the ring's connections between the hosts: three checkpoints while the
     * token goes round, each with one part of 2 processes on host 2, and the final
     * checksum equals an uninterrupted run's. Host 2's monotonic and boot clocks are a
     * day ahead of host 1's: clock differences between hosts do not matter.
     */
    @Test
    void aRingOverTwoHostsWithDifferentClocksKeepsItsChecksumThroughCheckpoints() throws Exception {
        int rounds = 300;
        try (Span span = new Span("ring", 2)) {
            Host two = span.hosts.host(2);
            two.clocksAhead(Duration.ofDays(1));
            Ring started = span.ring(two, rounds, List.of());
            Process first = started.first();
            Path firstOut = started.firstOut();
            Path secondOut = started.secondOut();
            int seen = started.seen();
            for (int generation = 1; generation <= 3; generation++) {
                Path checkpoint = span.checkpoint();
                JsonNode parts = JSON.readTree(checkpoint.resolve("manifest.json").toFile()).path("parts");
                assertEquals(1, parts.size(), parts.toString());
                assertEquals(two.name(), parts.get(0).path("host").asText(), parts.toString());
                assertEquals(2, parts.get(0).path("processes").asInt(), "nodes 2 and 3: " + parts);
                seen = Lines.awaitProgress(firstOut, ROUND, seen + 20, MINUTE, span::diagnostics, first);
            }
            assertTrue(seen < rounds, "the ring ended before the checkpoints: make it longer");
            Files.createFile(span.go());
            assertFinished(first, firstOut, "OK ring " + rounds + " rounds checksum ", span);
            assertFinished(started.second(), secondOut, "OK node 3", span);
            assertTrue(Lines.read(secondOut).contains("OK node 2"), Lines.show(secondOut));
        }
    }

    /**
     * The ring, 2 nodes on each of two hosts, checkpointed mid-run, every process
     * killed, and restarted with every part on host 1 ({@code restart --hosts h1}): the
     * part of host 2 restarts beside the main's, each with its own restorer and pid
     * namespace, at the same time, so the ring's connections between the parts are
     * rebuilt on host 1. There it is still a part of the main's computation (the main
     * holds it through its own member link): the next checkpoint takes both parts, both
     * on host 1. Everything killed again and restarted back on two hosts ({@code restart
     * --hosts h1,h2}); the ring runs to its end and its checksum equals an uninterrupted run's.
     */
    @Test
    void aRingOverTwoHostsRestartsWithEveryPartOnOneHostAndBackOnTwo() throws Exception {
        int rounds = 400;
        try (Span span = new Span("ring1", 2)) {
            Host one = span.main;
            Host two = span.hosts.host(2);
            // host 2 takes its part back after it ran on host 1: its member coordinator stays
            Ring started = span.ring(two, rounds, List.of("--keep-coordinator"));
            Path firstOut = started.firstOut();
            Path secondOut = started.secondOut();
            int seen = started.seen();
            Path checkpoint = span.checkpoint();
            assertEquals(1, JSON.readTree(checkpoint.resolve("manifest.json").toFile()).path("parts").size());
            span.hosts.killEveryComputation(true);
            int firstLines = Lines.count(firstOut);
            int secondLines = Lines.count(secondOut);
            Process running = one.startStasis(firstOut, "restart", "--hosts", one.name(), checkpoint.toString());
            Lines.await(firstOut, firstLines, "restarted node 0 1"::equals, MINUTE, span::diagnostics, running);
            Lines.await(secondOut, secondLines, "restarted node 2 1"::equals, MINUTE, span::diagnostics, running);
            seen = Lines.awaitProgress(firstOut, firstLines, ROUND, seen + 20, MINUTE, span::diagnostics, running);

            // On host 1 both parts are still one computation: one checkpoint takes both.
            Path again = span.checkpoint();
            JsonNode parts = JSON.readTree(again.resolve("manifest.json").toFile()).path("parts");
            assertEquals(1, parts.size(), parts + span.diagnostics());
            assertEquals(one.name(), parts.get(0).path("host").asText(), parts.toString());
            assertEquals(2, parts.get(0).path("processes").asInt(), "nodes 2 and 3: " + parts);
            seen = Lines.awaitProgress(firstOut, firstLines, ROUND, seen + 10, MINUTE, span::diagnostics, running);
            span.hosts.killEveryComputation(true);
            assertTrue(running.waitFor(30, TimeUnit.SECONDS), "the killed restart did not end");
            firstLines = Lines.count(firstOut);
            secondLines = Lines.count(secondOut);
            running = one.startStasis(firstOut, "restart", "--hosts", one.name() + "," + two.name(),
                    again.toString());
            Lines.await(firstOut, firstLines, "restarted node 0 2"::equals, MINUTE, span::diagnostics, running);
            Lines.await(secondOut, secondLines, "restarted node 2 2"::equals, MINUTE, span::diagnostics, running);
            String member = two.stasis("status", "--name", "span-" + one.address() + "-" + COORDINATOR_PORT).out();
            assertTrue(member.contains(" restarted ") && member.contains("ring.py"), "nodes 2 and 3 do not run on "
                    + two.name() + ": " + member + span.diagnostics());
            seen = Lines.awaitProgress(firstOut, firstLines, ROUND, seen + 20, MINUTE, span::diagnostics, running);
            assertTrue(seen < rounds, "the ring ended before the last restart: make it longer");
            Files.createFile(span.go());
            assertFinished(running, firstOut, "OK ring " + rounds + " rounds checksum ", span);
            Lines.await(secondOut, secondLines, "OK node 3"::equals, MINUTE, span::diagnostics);
            Lines.await(secondOut, secondLines, "OK node 2"::equals, MINUTE, span::diagnostics);
        }
    }

    /**
     * {@code restart --hosts --no-verify} holds for the parts that coordinators restart,
     * not only the main's own in the command's foreground: a page of host 2's part
     * damaged on disk (as a bad disk would; in the nodes' ballast, which they read only
     * at their end) is not checked, and nodes 2 and 3 come back on host 2. (Before, host
     * 2's restorer checked its pages anyway and refused the image.)
     */
    @Test
    void noVerifyHoldsForThePartsOtherCoordinatorsRestart() throws Exception {
        try (Span span = new Span("noverify", 2)) {
            Host one = span.main;
            Host two = span.hosts.host(2);
            Ring started = span.ring(two, 400, List.of("--keep-coordinator"), "--ballast", "16");
            Path checkpoint = span.checkpoint();
            JsonNode parts = JSON.readTree(checkpoint.resolve("manifest.json").toFile()).path("parts");
            Path part = Path.of(parts.get(0).path("path").asText());
            span.hosts.killEveryComputation(true);
            try (Stream<Path> files = Files.list(part)) {
                for (Path image : files.filter(p -> p.getFileName().toString().endsWith(".img")).toList()) {
                    org.stasis.scenarios.ImageDamage.flipMiddleOfPageData(image);
                }
            }
            assertNotEquals(0, two.stasis("verify", part.toString()).status(), "the damage is not seen");
            int firstLines = Lines.count(started.firstOut());
            int secondLines = Lines.count(started.secondOut());
            Process running = one.startStasis(started.firstOut(), "restart", "--hosts", one.name() + "," + two.name(),
                    "--no-verify", checkpoint.toString());
            Lines.await(started.firstOut(), firstLines, "restarted node 0 1"::equals, MINUTE, span::diagnostics,
                    running);
            Lines.await(started.secondOut(), secondLines, "restarted node 2 1"::equals, MINUTE, span::diagnostics,
                    running);
        }
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    /**
     * The main's manifest lists one part per member host, each part is published on its
     * host (its own checkpoint directory) and names the span, and {@code stasis verify}
     * on host 1 follows the parts.
     */
    private static void assertSpans(Path checkpoint, Set<Host> members, Span span) throws IOException {
        JsonNode manifest = JSON.readTree(checkpoint.resolve("manifest.json").toFile());
        String id = manifest.path("id").asText();
        JsonNode parts = manifest.path("parts");
        assertEquals(members.size(), parts.size(), "parts of " + checkpoint + ": " + parts + span.diagnostics());
        Set<String> hostsSeen = new HashSet<>();
        for (JsonNode part : parts) {
            String hostName = part.path("host").asText();
            hostsSeen.add(hostName);
            Host host = members.stream().filter(h -> h.name().equals(hostName)).findFirst()
                    .orElseThrow(() -> new AssertionError("a part on an unknown host: " + part));
            Path path = Path.of(part.path("path").asText());
            assertTrue(path.startsWith(host.checkpoints()), "part " + part + " is not in " + host.checkpoints());
            JsonNode partManifest = JSON.readTree(path.resolve("manifest.json").toFile());
            assertEquals(id, partManifest.path("span").asText(), "part " + path + " does not name the span " + id);
            assertEquals(part.path("id").asText(), partManifest.path("id").asText(), part.toString());
            assertEquals(1, part.path("processes").asInt(), "one worker per member part: " + part);
        }
        assertEquals(members.stream().map(Host::name).collect(java.util.stream.Collectors.toSet()), hostsSeen);
        Commands.Result verify = span.main.stasis("verify", checkpoint.toString());
        assertEquals(0, verify.status(), "verify of the whole checkpoint: " + verify);
    }

    /**
     * A member that presents a wrong token, or none it can read, is refused with one
     * line: the launch exits 1 and its program never runs; the main logs the refusal
     * with the member's address. The main's computation is unharmed: a worker with the
     * right token joins it afterwards and the stream runs to its end.
     */
    @Test
    void aWrongTokenIsRefusedWithOneLineAndNothingRuns() throws Exception {
        try (Span span = new Span("token", 2)) {
            Host two = span.hosts.host(2);
            Path serviceOut = span.output("service");
            Process service = span.service(serviceOut, 1, 300);
            Path marker = temp.resolve("ran");
            String[] program = {Lines.PYTHON, "-c", "open('" + marker + "', 'w').close()"};

            // A private file (the client refuses a token file others can read before it connects).
            Path wrong = Files.writeString(temp.resolve("wrong.token"), "ab".repeat(32) + "\n");
            Files.setPosixFilePermissions(wrong, PosixFilePermissions.fromString("rw-------"));
            Commands.Result refused = two.stasis(launch(List.of("--coordinator", span.main.address(COORDINATOR_PORT),
                    "--token-file", wrong.toString()), program));
            assertEquals(1, refused.status(), refused + span.diagnostics());
            assertOneLine(refused, "token");
            awaitLog(span, "refused", two.address());

            Commands.Result unreadable = two.stasis(launch(List.of("--coordinator",
                    span.main.address(COORDINATOR_PORT), "--token-file", temp.resolve("no-such.token").toString()),
                    program));
            assertEquals(1, unreadable.status(), unreadable + span.diagnostics());
            assertOneLine(unreadable, "token");
            assertFalse(Files.exists(marker), "a refused launch ran its program");

            Path workerOut = span.output("worker1");
            Files.createFile(span.go());
            Process worker = span.worker(two, workerOut, 1, 300, List.of());
            assertFinished(worker, workerOut, "OK worker 1 300", span);
            assertFinished(service, serviceOut, "OK service 1 workers 300 records each", span);
        }
    }

    private static void assertOneLine(Commands.Result result, String about) {
        List<String> lines = result.err().strip().lines().toList();
        assertEquals(1, lines.size(), "not one line: " + result);
        assertTrue(lines.get(0).startsWith("stasis: ") && lines.get(0).contains(about), result.toString());
        assertEquals("", result.out().strip(), result.toString());
    }

    /** Waits until the main coordinator's log has a line with every word of {@code words}. */
    private static void awaitLog(Span span, String... words) throws Exception {
        Path log = span.main.log(COORDINATOR);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (Lines.read(log).stream().noneMatch(l -> Stream.of(words).allMatch(l::contains))) {
            assertTrue(System.nanoTime() < deadline, "the main's log has no line with " + List.of(words)
                    + span.diagnostics());
            Thread.sleep(100);
        }
    }

    /**
     * A member host that is unreachable when a checkpoint starts (its cable pulled: its
     * processes run on, nothing goes in or out): the checkpoint fails with one line,
     * nothing is published on any host, neither then nor after the host is back; the
     * computation goes on, and once the host is plugged back in the stream runs to its
     * end with every record exactly once.
     */
    @Test
    void aHostCutOffAtCheckpointTimeFailsTheCheckpointEverywhereAndTheComputationGoesOn() throws Exception {
        int records = 3000;
        try (Span span = new Span("cutoff", 2)) {
            Host two = span.hosts.host(2);
            Path serviceOut = span.output("service");
            Path workerOut = span.output("worker1");
            Process service = span.service(serviceOut, 1, records);
            Process worker = span.worker(two, workerOut, 1, records, List.of());
            Lines.await(workerOut, 0, SENT.asMatchPredicate(), MINUTE, span::diagnostics, worker);
            int seen = Lines.awaitProgress(serviceOut, PROGRESS, 300, MINUTE, span::diagnostics, service);

            two.cutOff();
            Commands.Result failed = span.main.stasis("checkpoint");
            int sentWhileCut = Lines.lastProgress(workerOut, SENT);
            assertNotEquals(0, failed.status(), "a checkpoint with a host cut off succeeded: " + failed);
            List<String> why = failed.err().strip().lines().toList();
            assertEquals(1, why.size(), "not one line: " + failed);
            assertTrue(why.get(0).startsWith("stasis: ") && (why.get(0).contains(two.name())
                    || why.get(0).contains(two.address())), "the error does not name the lost host: " + failed);
            assertNothingPublished(span);

            two.reconnect();
            // The stream resumes (TCP retransmits once the host is back), both ways.
            Lines.awaitProgress(serviceOut, PROGRESS, seen + 300, Duration.ofSeconds(90), span::diagnostics, service);
            Lines.awaitProgress(workerOut, SENT, sentWhileCut + 300, MINUTE, span::diagnostics, worker);
            Files.createFile(span.go());
            assertFinished(worker, workerOut, "OK worker 1 " + records, span);
            assertFinished(service, serviceOut, "OK service 1 workers " + records + " records each", span);
            assertNothingPublished(span);
        }
    }

    private static void assertNothingPublished(Span span) throws IOException {
        for (Host host : span.hosts.hosts()) {
            assertEquals(List.of(), manifests(host.checkpoints()), "a checkpoint was left on " + host);
            assertFalse(Files.exists(host.checkpoints().resolve("latest")), "a checkpoint was published on " + host);
        }
    }
}
