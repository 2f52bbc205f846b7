package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint must not interrupt blocking calls (issue #9): threads of the
 * blocking_calls scenario sit in poll, epoll_wait, select, semop, msgrcv, mq_receive,
 * nanosleep, sigwaitinfo, pause, futex waits, accept, waitpid... while the program is
 * checkpointed through the command line and resumed, or killed and restarted. The
 * program checks that none saw EINTR unless its own signal came and that no timeout
 * was cut short; here the timed calls must also not take much longer than asked plus
 * the time the program was frozen.
 */
@Timeout(300)
class BlockingCallsIT {
    private static final long TIMEOUT_MS = 3000;
    private static final long SIGNAL_AT_MS = 2000;
    /* late enough for the command line's checkpoints and restart on a loaded machine:
     * the program must still be running (or restarted) when they end */
    private static final long EVENTS_AT_MS = 20000;
    private static final double SLACK_S = 1.0;

    @TempDir
    Path temp;

    private static String[] command(String mode) {
        return new String[] {Computation.SCENARIOS.resolve("blocking_calls").toString(), mode,
                Long.toString(TIMEOUT_MS), Long.toString(SIGNAL_AT_MS), Long.toString(EVENTS_AT_MS)};
    }

    private static long sleepUntil(long readyNanos, double seconds) throws InterruptedException {
        long delay = readyNanos + (long) (seconds * 1e9) - System.nanoTime();
        if (delay > 0) {
            Thread.sleep(delay / 1_000_000);
        }
        return System.nanoTime();
    }

    @Test
    void checkpointsThatResumeInterruptNoBlockingCall() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "blocking")) {
            // every call but the message queue ones: the coordinator refuses to checkpoint
            // a program holding a POSIX message queue (FilesAndIpcIT)
            Process running = computation.launch(output, command("nomq"));
            try {
                resumedTwice(computation, running, output);
            } finally {
                removeIpc(output);
            }
        }
    }

    private static void resumedTwice(Computation computation, Process running, Path output) throws Exception {
        Computation.awaitLine(output, l -> l.startsWith("ready"), Duration.ofSeconds(30));
        long ready = System.nanoTime();
        double frozen = 0;
        for (double at : new double[] {1.0, 10.0}) {
            long start = sleepUntil(ready, at);
            computation.checkpoint();
            if (at < TIMEOUT_MS / 1000.0) {
                frozen += (System.nanoTime() - start) / 1e9;
            }
        }
        Computation.assertFinished(running, output, "OK blocking_calls 35 calls");
        assertCases(output, frozen, 35);
    }

    @Test
    void aRestartResumesTheBlockingCallsWithTheTimeLeft() throws Exception {
        Path output = temp.resolve("output.txt");
        try (Computation computation = new Computation(temp, "blocking-restart")) {
            Process running = computation.launch(output, command("nofd"));
            try {
                restartedOnce(computation, running, output);
            } finally {
                removeIpc(output);
            }
        }
    }

    private static void restartedOnce(Computation computation, Process original, Path output) throws Exception {
        Computation.awaitLine(output, l -> l.startsWith("ready"), Duration.ofSeconds(30));
        long start = sleepUntil(System.nanoTime(), 1.0);
        Path checkpoint = computation.checkpoint();     // the program goes on until it is killed
        computation.kill(original);
        Process running = computation.restart(checkpoint, output);
        computation.awaitRestored();
        double frozen = (System.nanoTime() - start) / 1e9;
        Computation.assertFinished(running, output, "OK blocking_calls 24 calls restarts=1");
        assertCases(output, frozen, 24);
    }

    /** the program's SysV semaphores and message queue, left behind when it was killed or failed */
    private static void removeIpc(Path output) throws Exception {
        if (!Files.exists(output)) {
            return;
        }
        for (String line : Files.readAllLines(output)) {
            for (String word : line.startsWith("ready") ? line.split(" ") : new String[0]) {
                if (word.startsWith("sem=") || word.startsWith("msg=")) {
                    new ProcessBuilder("ipcrm", word.startsWith("sem=") ? "-s" : "-q", word.substring(4))
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                            .waitFor();
                }
            }
        }
    }

    /** every call ok; a timed one not longer than its timeout, the time frozen and some slack */
    private static void assertCases(Path output, double frozen, int count) throws Exception {
        List<String[]> cases = Files.readAllLines(output).stream().filter(l -> l.startsWith("case "))
                .map(l -> l.split(" ")).toList();
        assertEquals(count, cases.size(), Files.readString(output));
        for (String[] c : cases) {
            assertEquals("ok", c[3], String.join(" ", c));
            if (c[2].equals("timed")) {
                double took = Long.parseLong(c[4]) / 1000.0;
                assertTrue(took <= TIMEOUT_MS / 1000.0 + frozen + SLACK_S,
                        String.format("%s took %.3f s (frozen %.3f s)", c[1], took, frozen));
            }
        }
    }
}
