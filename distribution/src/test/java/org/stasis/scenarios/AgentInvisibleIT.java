package org.stasis.scenarios;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent does not show (issue #9): its coordinator connection is not a descriptor
 * of the program, and children exec'd with a cleared environment stay in the
 * computation. Each program checks itself at every step and is checkpointed, killed
 * and restarted twice through the command line:
 * <ul>
 * <li>{@code agentfd listfd}: fails on any fd in /proc/self/fd it did not open;</li>
 * <li>{@code agentfd closeall}: closes every fd 3..1024 (close loop, raw close_range,
 * closefrom) at every step;</li>
 * <li>{@code agentfd rlimit}: lowers RLIMIT_NOFILE to 32 and checks it can use all of 3..31;</li>
 * <li>{@code agentexec}: children started with {@code env -i} and {@code execle} with a
 * minimal environment see exactly that environment and are restarted with their parent.</li>
 * </ul>
 */
@Timeout(300)
class AgentInvisibleIT {
    private static final Pattern COUNT = Pattern.compile("count (\\d+)");
    private static final Pattern CHILD_COUNT = Pattern.compile("A count (\\d+)");

    @TempDir
    Path temp;

    @Test
    void aProgramListingItsDescriptorsSeesOnlyItsOwn() throws Exception {
        twoGenerations("listfd", "agentfd", "listfd", "2000");
    }

    @Test
    void aProgramClosingEveryDescriptorIsStillCheckpointed() throws Exception {
        twoGenerations("closeall", "agentfd", "closeall", "2000");
    }

    @Test
    void aProgramWithThirtyTwoDescriptorsIsCheckpointedAndRestarted() throws Exception {
        twoGenerations("rlimit", "agentfd", "rlimit", "2000");
    }

    @Test
    void childrenExecutedWithAClearedEnvironmentStayInTheComputation() throws Exception {
        Path output = twoGenerations("agentexec", "agentexec", "parent", "1000");
        String text = Files.readString(output);
        assertFalse(text.contains("stasis: warning"), text);
        for (String who : new String[] {"A", "B"}) {
            assertTrue(text.contains(who + " env ok"), who + " saw another environment:\n" + text);
            assertTrue(text.contains(who + " restarted 2"), who + " was not restarted with its parent:\n" + text);
            assertTrue(text.contains(who + " done 500500 restarts 2"), who + " lost its state:\n" + text);
        }
    }

    /** launch, twice (checkpoint, kill, restart, progress), then the program's own OK */
    private Path twoGenerations(String name, String program, String... args) throws Exception {
        Path output = temp.resolve(name + ".txt");
        Pattern progress = program.equals("agentexec") ? CHILD_COUNT : COUNT;
        try (Computation computation = new Computation(temp, name)) {
            String[] command = new String[args.length + 1];
            command[0] = Computation.SCENARIOS.resolve(program).toString();
            System.arraycopy(args, 0, command, 1, args.length);
            Process running = computation.launch(output, command);
            int at = Computation.awaitProgress(output, 0, progress, 10);
            for (int generation = 1; generation <= 2; generation++) {
                Path checkpoint = computation.checkpoint();
                computation.kill(running);
                int before = Computation.lineCount(output);
                running = computation.restart(checkpoint, output);
                computation.awaitRestored();
                at = Computation.awaitProgress(output, before, progress, at + 1);
                at = Computation.awaitProgress(output, before, progress, at + 10);
            }
            Computation.assertFinished(running, output, "OK " + program);
            String text = Files.readString(output);
            assertTrue(text.contains("restarted 2"), "the program did not notice the second restart:\n" + text);
        }
        return output;
    }
}
