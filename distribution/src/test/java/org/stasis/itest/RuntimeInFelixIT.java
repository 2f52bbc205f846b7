package org.stasis.itest;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemPackage;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The Stasis runtime inside a real Felix framework (Pax Exam, native container): the
 * bundles of {@code dist/bundles} start, the coordinator's components and commands work,
 * and a plugin dropped into the FileInstall folder joins and leaves the coordinator.
 *
 * <p>The configuration mirrors {@code FelixRuntime}: same FileInstall settings, the
 * {@code stasis.*} properties, {@code jdk.net} from the system bundle and the Gogo shell
 * starting after everything else. Nothing is fetched: the Stasis bundles come from
 * {@code dist/bundles} as {@code file:} URLs, Pax Exam's own bundles and JUnit from the
 * jars inside {@code pax-exam-link-assembly} on the test class path.
 *
 * <p>The test methods run inside the framework; {@link #configure()} runs outside it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RuntimeInFelixIT {
    /** Framework property naming the sample plugin jar to drop in. */
    private static final String SAMPLE_PROPERTY = "stasis.itest.sample";
    private static final String SHELL_BUNDLE = "org.apache.felix.gogo.shell";
    private static final String HELLO_BUNDLE = "org.stasis.samples.hello";
    private static final long POLL_TIMEOUT_MS = 15_000;
    private static final List<String> CORE_BUNDLES = List.of(
            "org.stasis.api",
            "org.stasis.framework",
            "org.stasis.plugin.pid",
            "org.stasis.plugin.file",
            "org.stasis.plugin.pty",
            "org.stasis.plugin.socket",
            "org.stasis.plugin.event",
            "org.stasis.plugin.vnc",
            "org.stasis.plugin.ipythonconfig",
            "com.sun.jna",
            "org.apache.felix.scr",
            "org.apache.felix.configadmin",
            "org.apache.felix.fileinstall",
            "org.apache.felix.gogo.runtime",
            "org.apache.felix.gogo.command",
            SHELL_BUNDLE,
            "com.fasterxml.jackson.core.jackson-core",
            "com.fasterxml.jackson.core.jackson-databind",
            "com.fasterxml.jackson.core.jackson-annotations",
            "org.osgi.service.component",
            "org.osgi.util.promise",
            "org.osgi.util.function");
    /** The built-in plugins in checkpoint order (descending ranking). */
    private static final List<String> BUILT_IN_PLUGINS = List.of("pid", "file", "socket", "vnc",
            "ipython-config", "event", "pty");
    private static final List<String> EVENTS = List.of("preCheckpoint", "drain", "write", "restart", "resume");

    /** Created by {@link #configure()} outside the framework; removed when the JVM exits. */
    private static Path scratch;

    @Inject
    private BundleContext context;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] configure() throws IOException {
        Path dist = Path.of(System.getProperty("stasis.dist", "../dist")).toAbsolutePath().normalize();
        Path bundles = dist.resolve("bundles");
        Path sample = dist.resolve("samples").resolve(HELLO_BUNDLE + ".jar");
        if (!Files.isDirectory(bundles) || !Files.isRegularFile(sample)) {
            throw new IllegalStateException("no assembled distribution in " + dist + " (run mvn install first)");
        }
        if (scratch == null) {
            scratch = Files.createTempDirectory("stasis-felix-it-");
            // Pax Exam's runner runs no @AfterClass outside the framework and stops the
            // framework after the last test: clean up when this JVM exits.
            PaxExamFiles.deleteAtExit(scratch);
        }
        Path plugins = Files.createDirectories(scratch.resolve("plugins"));
        Path checkpoints = Files.createDirectories(scratch.resolve("checkpoints"));

        List<Option> options = new ArrayList<>();
        options.add(workingDirectory(scratch.resolve("exam").toString()));
        options.add(junitBundles());
        options.add(frameworkProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value("WARN"));
        options.add(systemPackage("jdk.net"));
        options.add(frameworkProperty("felix.log.level").value("1"));
        options.add(frameworkProperty("felix.fileinstall.dir").value(plugins.toString()));
        options.add(frameworkProperty("felix.fileinstall.poll").value("500"));
        options.add(frameworkProperty("felix.fileinstall.noInitialDelay").value("true"));
        options.add(frameworkProperty("felix.fileinstall.bundles.new.start").value("true"));
        options.add(frameworkProperty("felix.fileinstall.log.level").value("2"));
        options.add(frameworkProperty("felix.fileinstall.tmpdir").value(scratch.resolve("fileinstall").toString()));
        options.add(frameworkProperty("gosh.args").value("--nointeractive --noshutdown"));
        options.add(frameworkProperty("stasis.name").value("felix-it"));
        // The coordinator's sockets go to the test's own folder, not the user's runtime directory.
        options.add(frameworkProperty("stasis.runtime.dir").value(scratch.resolve("run").toString()));
        options.add(frameworkProperty("stasis.ckpt.dir").value(checkpoints.toString()));
        options.add(frameworkProperty("stasis.home").value(dist.toString()));
        options.add(frameworkProperty("stasis.console").value("false"));
        options.add(frameworkProperty(SAMPLE_PROPERTY).value(sample.toString()));
        try (Stream<Path> jars = Files.list(bundles)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().collect(Collectors.toList())) {
                // As in FelixRuntime, the shell starts after every command is registered (test probe: level 5).
                boolean shell = jar.getFileName().toString().equals(SHELL_BUNDLE + ".jar");
                options.add(bundle(jar.toUri().toString()).startLevel(shell ? 4 : 3).start());
            }
        }
        return options(options.toArray(new Option[0]));
    }

    @Test
    public void coreBundlesAndComponentsAreActive() throws Exception {
        Map<String, Bundle> bySymbolicName = new TreeMap<>();
        for (Bundle bundle : context.getBundles()) {
            bySymbolicName.put(bundle.getSymbolicName(), bundle);
        }
        for (String name : CORE_BUNDLES) {
            Bundle bundle = bySymbolicName.get(name);
            assertNotNull("bundle " + name + " is not installed; installed: " + bySymbolicName.keySet(), bundle);
            assertEquals("state of " + name, state(Bundle.ACTIVE), state(bundle.getState()));
        }
        // Every bundle of the distribution, not only the ones listed above.
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getLocation().contains("/bundles/") && bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                assertEquals("state of " + bundle.getSymbolicName(), state(Bundle.ACTIVE), state(bundle.getState()));
            }
        }

        Bundle framework = bySymbolicName.get("org.stasis.framework");
        String commandsComponent = "org.stasis.framework.commands.StasisCommands";
        String coordinatorComponent = "org.stasis.framework.core.Coordinator";
        ServiceReference<?>[] coordinator = context.getServiceReferences(coordinatorComponent, null);
        assertNotNull("no Coordinator service", coordinator);
        assertEquals(framework, coordinator[0].getBundle());
        ServiceReference<?>[] commands = awaitServices(commandsComponent,
                "(" + CommandProcessor.COMMAND_SCOPE + "=stasis)");
        assertEquals(framework, commands[0].getBundle());
        assertEquals(List.of("plugins", "version", "shutdown", "events", "dryrun"),
                Arrays.asList((String[]) commands[0].getProperty(CommandProcessor.COMMAND_FUNCTION)));

        String version = execute("stasis:version");
        assertTrue(version, version.matches("(?s).*coordinator\\s+felix-it(\\R.*|$)"));
        assertTrue(version, version.matches("(?s).*framework\\s+org\\.apache\\.felix\\.framework \\d.*"));
        assertTrue(version, version.matches("(?s).*pluginApi\\s+\\d+\\.\\d+\\.\\d+.*"));
        assertEquals(BUILT_IN_PLUGINS, pluginIds(execute("stasis:plugins")));

        // Both components are active; the commands one is delayed (Gogo releases it after
        // each command), so hold it while looking.
        Object commandsService = context.getService(commands[0]);
        assertNotNull("the StasisCommands component could not be activated", commandsService);
        ServiceReference<ServiceComponentRuntime> scrReference = context.getServiceReference(ServiceComponentRuntime.class);
        assertNotNull("no ServiceComponentRuntime", scrReference);
        ServiceComponentRuntime scr = context.getService(scrReference);
        try {
            for (String name : List.of(coordinatorComponent, commandsComponent)) {
                ComponentDescriptionDTO description = scr.getComponentDescriptionDTO(framework, name);
                assertNotNull("no component " + name, description);
                Collection<ComponentConfigurationDTO> configurations = scr.getComponentConfigurationDTOs(description);
                assertEquals("configurations of " + name, 1, configurations.size());
                ComponentConfigurationDTO configuration = configurations.iterator().next();
                assertEquals("state of component " + name + " (unsatisfied: "
                        + Arrays.toString(configuration.unsatisfiedReferences) + ")",
                        ComponentConfigurationDTO.ACTIVE, configuration.state);
            }
        } finally {
            context.ungetService(scrReference);
            context.ungetService(commands[0]);
        }
    }

    @Test
    public void droppedInPluginJoinsReceivesEventsAndLeaves() throws Exception {
        Path plugins = Path.of(context.getProperty("felix.fileinstall.dir"));
        Path sample = Path.of(context.getProperty(SAMPLE_PROPERTY));
        Path dropped = plugins.resolve(sample.getFileName());
        assertEquals(BUILT_IN_PLUGINS, pluginIds(execute("stasis:plugins")));
        assertFalse("hello bundle installed before the drop-in", findBundle(HELLO_BUNDLE) != null);

        try {
            // Copy next to the folder, then move in, so FileInstall never sees half a jar.
            Path partial = Files.copy(sample, plugins.resolveSibling(sample.getFileName() + ".part"),
                    StandardCopyOption.REPLACE_EXISTING);
            Files.move(partial, dropped, StandardCopyOption.ATOMIC_MOVE);

            String listed = await("stasis:plugins", out -> out.contains("hello"));
            String row = listed.lines().filter(l -> l.matches("\\s*\\d+\\s+hello\\s.*")).findFirst()
                    .orElseThrow(() -> new AssertionError("no row for plugin hello in:\n" + listed));
            assertTrue(row, row.contains(String.join(",", EVENTS)));
            assertTrue(row, row.matches(".*\\shello\\s+10\\s.*"));
            assertTrue(row, row.contains(HELLO_BUNDLE));
            Bundle hello = findBundle(HELLO_BUNDLE);
            assertNotNull("FileInstall did not install the hello bundle", hello);
            assertEquals(state(Bundle.ACTIVE), state(hello.getState()));

            assertEquals("no events yet", execute("hello:events").trim());
            String dryrun = execute("stasis:dryrun");
            // TIME OPERATION STEP PLUGIN MS STATUS [MESSAGE]
            List<String[]> steps = dryrun.lines().skip(1).map(l -> l.trim().split("\\s+", 7)).collect(Collectors.toList());
            for (String event : EVENTS) {
                assertTrue("no successful " + event + " step of plugin hello in the dry run:\n" + dryrun,
                        steps.stream().anyMatch(c -> c.length >= 6 && c[2].equals(event) && c[3].equals("hello")
                                && c[5].equals("ok")));
            }
            assertFalse("a step failed in the dry run:\n" + dryrun, dryrun.matches("(?is).*\\b(failed|error)\\b.*"));

            // "<time> <checkpoint id> <event> [detail]": the checkpoint, the resume after it,
            // then the restart and the resume after that, all of the one rehearsal.
            String events = execute("hello:events");
            List<String[]> lines = events.lines().map(String::trim).filter(l -> !l.isEmpty())
                    .map(l -> l.split("\\s+", 4)).collect(Collectors.toList());
            List<String> received = lines.stream().map(l -> l.length > 2 ? l[2] + (l.length > 3 && l[2].equals("resume")
                    ? " " + l[3] : "") : "?").collect(Collectors.toList());
            assertEquals("events received by hello:\n" + events, List.of("preCheckpoint", "drain", "write",
                    "resume resumed", "restart", "resume restarted"), received);
            assertEquals("checkpoint ids in:\n" + events, 1, lines.stream().map(l -> l[1]).distinct().count());
            assertTrue(events, lines.get(0)[1].startsWith("felix-it"));
            // The records hello wrote at checkpoint came back to it at restart.
            assertTrue(events, events.contains("restart records={events-seen=3}"));
        } finally {
            Files.deleteIfExists(dropped);
        }

        await("stasis:plugins", out -> pluginIds(out).equals(BUILT_IN_PLUGINS));
        long deadline = System.currentTimeMillis() + POLL_TIMEOUT_MS;
        while (findBundle(HELLO_BUNDLE) != null && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertFalse("the hello bundle is still installed after its jar was removed", findBundle(HELLO_BUNDLE) != null);
    }

    private String execute(String command) throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
        try (CommandSession session = processor.createSession(InputStream.nullInputStream(), out, out)) {
            Object result = session.execute(command);
            out.flush();
            String printed = buffer.toString(StandardCharsets.UTF_8);
            return result == null ? printed : printed + result;
        }
    }

    private String await(String command, Predicate<String> condition) throws Exception {
        long deadline = System.currentTimeMillis() + POLL_TIMEOUT_MS;
        String last;
        while (true) {
            try {
                last = execute(command);
            } catch (Exception e) {
                last = "failed: " + e;
            }
            if (condition.test(last)) {
                return last;
            }
            if (System.currentTimeMillis() > deadline) {
                fail("'" + command + "' did not give the expected output within " + POLL_TIMEOUT_MS + " ms; last:\n" + last);
            }
            Thread.sleep(200);
        }
    }

    private ServiceReference<?>[] awaitServices(String clazz, String filter) throws Exception {
        long deadline = System.currentTimeMillis() + POLL_TIMEOUT_MS;
        ServiceReference<?>[] references;
        while ((references = context.getServiceReferences(clazz, filter)) == null) {
            if (System.currentTimeMillis() > deadline) {
                fail("no service " + clazz + " " + filter + " within " + POLL_TIMEOUT_MS + " ms");
            }
            Thread.sleep(100);
        }
        return references;
    }

    private Bundle findBundle(String symbolicName) {
        return Arrays.stream(context.getBundles()).filter(b -> symbolicName.equals(b.getSymbolicName()))
                .findFirst().orElse(null);
    }

    private static String state(int state) {
        switch (state) {
            case Bundle.ACTIVE: return "ACTIVE";
            case Bundle.RESOLVED: return "RESOLVED";
            case Bundle.INSTALLED: return "INSTALLED";
            case Bundle.STARTING: return "STARTING";
            case Bundle.STOPPING: return "STOPPING";
            default: return "UNINSTALLED";
        }
    }

    /** The PLUGIN column of stasis:plugins, in order. */
    private static List<String> pluginIds(String table) {
        return table.lines().filter(l -> l.matches("\\s*\\d+\\s+\\S+\\s+-?\\d+\\s.*"))
                .map(l -> l.trim().split("\\s+")[1]).collect(Collectors.toList());
    }
}
