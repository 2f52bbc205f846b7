package org.stasis.plugin.ipythonconfig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stasis.api.ResumeContext;
import org.stasis.api.testkit.FakeComputation;

class IPythonConfigPluginTest {
    @TempDir
    Path temp;

    private Path fakeProc(String cmdline, String environ) throws IOException {
        Path proc = temp.resolve("proc");
        Path self = Files.createDirectories(proc.resolve(Long.toString(ProcessHandle.current().pid())));
        Files.writeString(self.resolve("cmdline"), cmdline.replace(' ', '\0') + "\0");
        Files.writeString(self.resolve("environ"), environ.replace(' ', '\0') + "\0");
        return proc;
    }

    private Path profile() throws IOException {
        Path profile = Files.createDirectories(temp.resolve("ipd/profile_default"));
        Files.writeString(profile.resolve("ipython_config.py"), "c.InteractiveShell.colors = 'NoColor'\n");
        Files.createDirectories(profile.resolve("startup"));
        Files.writeString(profile.resolve("startup/00-hello.py"), "hello = 1\n");
        Files.write(profile.resolve("history.sqlite"), new byte[300]);
        Files.write(profile.resolve("big.bin"), new byte[5000]);
        return profile;
    }

    @Test
    void aKernelsProfileAndConnectionFileAreSavedAndRestoredIntoAPrivateDirectory() throws Exception {
        Path profile = profile();
        Path conn = Files.writeString(temp.resolve("kernel.json"), "{\"shell_port\": 1}");
        Path proc = fakeProc("/usr/bin/python3 -m ipykernel_launcher -f " + conn,
                "HOME=/nowhere IPYTHONDIR=" + temp.resolve("ipd"));
        Path runtime = Files.createDirectory(temp.resolve("run"));
        IPythonConfigPlugin plugin = new IPythonConfigPlugin(proc, runtime);
        plugin.configure(Map.of(IPythonConfigPlugin.LIMIT, "1000"));
        try (FakeComputation computation = new FakeComputation(temp.resolve("ckpt/plugins/ipython-config"))) {
            computation.process(1);
            plugin.write(computation.checkpoint());
            assertEquals(profile.toString(), computation.records().get("root.1"));
            assertEquals(conn.toString(), computation.records().get("root.2"));
            assertTrue(computation.log().stream().anyMatch(l -> l.contains("not saved: " + profile.resolve("big.bin"))
                    && l.contains("5000 bytes")), computation.log().toString());

            // the user edits the config and deletes the profile after the checkpoint
            Files.writeString(profile.resolve("ipython_config.py"), "edited\n");
            computation.endOperation();
            plugin.restart(computation.restart());
            plugin.resume(computation.resume(ResumeContext.Outcome.RESTARTED));
            List<Path> kept = plugin.privateDirectories();
            assertEquals(1, kept.size());
            Path dir = kept.get(0);
            assertTrue(dir.startsWith(runtime.resolve("ipython-config")), dir.toString());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            assertEquals("c.InteractiveShell.colors = 'NoColor'\n",
                    Files.readString(dir.resolve("root-1/ipython_config.py")));
            assertEquals("hello = 1\n", Files.readString(dir.resolve("root-1/startup/00-hello.py")));
            assertEquals(300, Files.size(dir.resolve("root-1/history.sqlite")));
            assertFalse(Files.exists(dir.resolve("root-1/big.bin")));
            assertTrue(Files.isRegularFile(dir.resolve("root-2/kernel.json")));
            assertEquals("edited\n", Files.readString(profile.resolve("ipython_config.py")), "the user's file untouched");
            assertEquals(Map.of(profile, dir.resolve("root-1"), conn, dir.resolve("root-2/kernel.json")),
                    computation.plan().redirects(), "the original paths are served from the copies");

            // checkpointed again, the restored process is saved from the copy it sees
            computation.endOperation();
            computation.checkpointId("test-2", 2);
            Blobs.remove(temp.resolve("ckpt/plugins/ipython-config"), l -> { });   // a new checkpoint: a new directory
            plugin.write(computation.checkpoint());
            assertEquals(dir.resolve("root-1").toString(), computation.records().get("root.1"));
            assertEquals(dir.resolve("root-2/kernel.json").toString(), computation.records().get("root.2"));
        } finally {
            plugin.stop();
        }
        assertTrue(plugin.privateDirectories().isEmpty());
        try (var left = Files.list(runtime.resolve("ipython-config"))) {
            assertEquals(0, left.count(), "private directories are removed when the plugin stops");
        }
    }

    @Test
    void theDirectoryGoesWhenTheComputationsProcessesHaveEnded() throws Exception {
        profile();
        Path proc = fakeProc("/usr/bin/ipython3", "IPYTHONDIR=" + temp.resolve("ipd"));
        Path runtime = Files.createDirectory(temp.resolve("run"));
        IPythonConfigPlugin plugin = new IPythonConfigPlugin(proc, runtime);
        plugin.configure(Map.of());
        try (FakeComputation computation = new FakeComputation(temp.resolve("ckpt/plugins/ipython-config"))) {
            computation.process(1);
            plugin.write(computation.checkpoint());
            computation.endOperation();
            plugin.restart(computation.restart());
            plugin.resume(computation.resume(ResumeContext.Outcome.RESTARTED));
            Path dir = plugin.privateDirectories().get(0);
            assertTrue(Files.isRegularFile(dir.resolve("root-1/big.bin")), "under the default limit");
            // the process "ends": its /proc entry goes
            Path self = proc.resolve(Long.toString(ProcessHandle.current().pid()));
            Files.delete(self.resolve("cmdline"));
            Files.delete(self.resolve("environ"));
            Files.delete(self);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (Files.exists(dir) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(Files.exists(dir), "the private directory outlived the computation");
        } finally {
            plugin.stop();
        }
    }

    @Test
    void otherProgramsAreLeftAlone() throws Exception {
        Path proc = fakeProc("/usr/bin/python3 app.py", "HOME=" + temp);
        IPythonConfigPlugin plugin = new IPythonConfigPlugin(proc, Files.createDirectory(temp.resolve("run")));
        plugin.configure(Map.of());
        try (FakeComputation computation = new FakeComputation(temp.resolve("ckpt/plugins/ipython-config"))) {
            computation.process(1);
            plugin.write(computation.checkpoint());
            assertTrue(computation.records().isEmpty(), computation.records().toString());
            computation.endOperation();
            plugin.restart(computation.restart());
            assertTrue(plugin.privateDirectories().isEmpty());
        } finally {
            plugin.stop();
        }
    }

    @Test
    void aDamagedCheckpointFailsTheRestartAndLeavesNoDirectory() throws Exception {
        profile();
        Path proc = fakeProc("/usr/bin/ipython3", "IPYTHONDIR=" + temp.resolve("ipd"));
        Path runtime = Files.createDirectory(temp.resolve("run"));
        IPythonConfigPlugin plugin = new IPythonConfigPlugin(proc, runtime);
        plugin.configure(Map.of());
        Path blobs = temp.resolve("ckpt/plugins/ipython-config");
        try (FakeComputation computation = new FakeComputation(blobs)) {
            computation.process(1);
            plugin.write(computation.checkpoint());
            computation.endOperation();
            org.stasis.plugin.ipythonconfig.Blobs.remove(blobs.resolve("root-1"), l -> { });
            IOException e = assertThrows(IOException.class, () -> plugin.restart(computation.restart()));
            assertTrue(e.getMessage().contains("damaged"), e.getMessage());
            assertTrue(plugin.privateDirectories().isEmpty());
        } finally {
            plugin.stop();
        }
    }

    /** A restart that fails after this plugin's restart and before resume (the restorer refused, was killed). */
    @Test
    void aRestartThatFailsBeforeResumeRemovesItsPrivateDirectoryAtOnce() throws Exception {
        profile();
        Path proc = fakeProc("/usr/bin/ipython3", "IPYTHONDIR=" + temp.resolve("ipd"));
        Path runtime = Files.createDirectory(temp.resolve("run"));
        IPythonConfigPlugin plugin = new IPythonConfigPlugin(proc, runtime);
        plugin.configure(Map.of());
        try (FakeComputation computation = new FakeComputation(temp.resolve("ckpt/plugins/ipython-config"))) {
            computation.process(1);
            plugin.write(computation.checkpoint());
            computation.endOperation();
            plugin.restart(computation.restart());
            Path dir = plugin.privateDirectories().get(0);
            assertTrue(Files.isRegularFile(dir.resolve("root-1/ipython_config.py")));
            computation.endOperation();                 // the restart failed: the core drops its store
            assertTrue(plugin.privateDirectories().isEmpty(), plugin.privateDirectories().toString());
            assertFalse(Files.exists(dir), "the failed restart's private copy stayed");
        } finally {
            plugin.stop();
        }
    }

    /** Unreadable for the coordinator: permission denied (as root every file is readable: skipped). */
    @Test
    void anUnreadableFileRefusesTheCheckpointWithOneLineNamingIt() throws Exception {
        Path profile = profile();
        Path secret = profile.resolve("startup/10-secret.py");
        Files.writeString(secret, "token = 1\n");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("---------"));
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isReadable(secret), "root reads every file");
        Path proc = fakeProc("/usr/bin/ipython3", "IPYTHONDIR=" + temp.resolve("ipd"));
        IPythonConfigPlugin plugin = new IPythonConfigPlugin(proc, Files.createDirectory(temp.resolve("run")));
        plugin.configure(Map.of());
        try (FakeComputation computation = new FakeComputation(temp.resolve("ckpt/plugins/ipython-config"))) {
            computation.process(1);
            IOException e = assertThrows(IOException.class, () -> plugin.write(computation.checkpoint()));
            assertTrue(e.getMessage().startsWith("cannot read " + secret + " (permission denied)"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        } finally {
            plugin.stop();
        }
    }
}
