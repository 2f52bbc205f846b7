package org.stasis.framework.control;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.stasis.framework.core.Coordinator;

/**
 * The interactive Gogo console of {@code stasis coordinator} run in the foreground.
 * Leaving it (exit or Ctrl-D) stops the coordinator, as it owns the terminal.
 */
@Component(immediate = true)
public class ForegroundConsole {
    /** Framework property that asks for the console. */
    public static final String CONSOLE_PROPERTY = "stasis.console";

    /**
     * @param context the framework bundle's context
     * @param processor the Gogo command processor
     * @param coordinator the coordinator
     * @param ready the launcher's signal that every bundle has started
     */
    @Activate
    public ForegroundConsole(BundleContext context, @Reference CommandProcessor processor,
            @Reference Coordinator coordinator,
            @Reference(service = Object.class, target = "(" + ControlServer.READY_PROPERTY + "=true)") Object ready) {
        if (!Boolean.parseBoolean(context.getProperty(CONSOLE_PROPERTY))) {
            return;
        }
        // Raw descriptors, not System.out: Felix and Gogo redirect System.out per thread.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        Thread console = new Thread(() -> {
            try {
                new InteractiveSession(processor, "Stasis coordinator '" + coordinator.name()
                        + "' is running. Type 'help' for commands; 'exit' or Ctrl-D stops the coordinator.")
                        .run(new FileInputStream(FileDescriptor.in), out);
                context.getBundle(0).stop();
            } catch (Exception e) {
                out.println("stasis: console failed: " + e.getMessage());
            }
        }, "stasis-console");
        console.setDaemon(true);
        console.start();
    }
}
