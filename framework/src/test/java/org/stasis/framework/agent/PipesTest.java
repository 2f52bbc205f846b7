package org.stasis.framework.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.FdSource;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.framework.lifecycle.Plan;
import org.stasis.framework.store.ProcessTree;

class PipesTest {
    @TempDir
    Path temp;

    @Test
    void onlyPipesWithBothEndsInsideAreTheComputations() {
        Map<Integer, List<OpenFd>> fds = Map.of(
                2, List.of(new OpenFd(1, "pipe:[10]", 1, 0), new OpenFd(4, "pipe:[20]", 01, 0)),
                5, List.of(new OpenFd(1, "pipe:[10]", 1, 0), new OpenFd(3, "pipe:[20]", 0, 0),
                        new OpenFd(6, "pipe:[30]", 0, 0)));
        Map<String, List<Pipes.End>> inside = Pipes.internal(fds);
        assertEquals(List.of("20"), List.copyOf(inside.keySet()), "a shared stdout or a lone end leads outside");
        assertEquals(2, inside.get("20").size());
        assertTrue(inside.get("20").get(0).writes());
    }

    @Test
    void aFifoCountsAsSoonAsTheComputationCanReadIt() {
        Map<Integer, List<OpenFd>> fds = Map.of(
                2, List.of(new OpenFd(3, "fifo:[40]", 04000, 0), new OpenFd(4, "fifo:[50]", 1, 0),
                        new OpenFd(5, "fifo:[60]", 2, 0)),
                5, List.of(new OpenFd(3, "fifo:[60]", 1, 0)));
        Map<String, List<Pipes.End>> inside = Pipes.internal(fds);
        assertEquals(List.of("fifo-40", "fifo-60"), List.copyOf(inside.keySet()),
                "a reader alone (data a writer left) and a read-write end count; a writer alone does not");
        assertTrue(inside.get("fifo-60").get(0).reads());
    }

    @Test
    void treePlanHasOneSectionPerProcessWithZombiesAndPipeEndsReplacePluginFds() throws Exception {
        Plan plan = new Plan(List.of(new ProcessInfo(2, 100, 1, "root"), new ProcessInfo(5, 101, 2, "child")));
        plan.process(2).installFd(1, new FdSource.Inherited(1));
        plan.process(5).installFd(3, new FdSource.Inherited(1));
        Path target = temp.resolve("tree.plan");
        RestartPlanFile.write(plan, List.of(
                new RestartPlanFile.Member(plan.process(2), Path.of("/ck/image-2.img"), new ProcessTree(2, 1, 0, 0,
                        List.of(new ProcessTree.ExitedChild(9, 0x500))),
                        Map.of(4, "fd 4 pipe 20 w 1"), Map.of("7f1c2a000000", "00:01-4242")),
                new RestartPlanFile.Member(plan.process(5), Path.of("/ck/image-5.img"), new ProcessTree(5, 2, 5, 0),
                        Map.of(3, "fd 3 pipe 20 r 0"), Map.of("7f1c2a000000", "00:01-4242"))),
                List.of("pipe 20 /ck/pipe-20.data"), Path.of("/run/agent.sock"), target);
        assertEquals("""
                version 1
                namespaces on
                agent-socket /run/agent.sock
                pipe 20 /ck/pipe-20.data
                process 2 /ck/image-2.img
                tree 1 0 0
                zombie 9 1280
                shared 7f1c2a000000 00:01-4242
                fd 1 inherit 1
                fd 4 pipe 20 w 1
                process 5 /ck/image-5.img
                tree 2 5 0
                shared 7f1c2a000000 00:01-4242
                fd 3 pipe 20 r 0
                """, Files.readString(target));
    }

    // A full pipe (16 pages) must fit again: no refill chunk may straddle a page boundary,
    // or the kernel gives it a page of its own and the last pages no longer fit.
    @Test
    void refillChunksFillWholePagesSoAFullPipeFitsAgain() {
        int pages = 0;
        int inPage = 4096;
        for (int at = 0, chunk; at < 65536; at += chunk) {
            chunk = Pipes.refillChunk(at);
            if (inPage + chunk > 4096) {
                pages++;
                inPage = 0;
            }
            inPage += chunk;
        }
        org.junit.jupiter.api.Assertions.assertEquals(16, pages);
    }
}
