package org.stasis.framework.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.stasis.api.Computation;
import org.stasis.api.DrainCallback;
import org.stasis.api.LifecycleEvent;
import org.stasis.api.PreCheckpointCallback;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartCallback;
import org.stasis.api.ResumeCallback;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;
import org.stasis.framework.dispatch.EventDispatcher;
import org.stasis.framework.dispatch.EventLog;
import org.stasis.framework.dispatch.PluginCallback;
import org.stasis.framework.dispatch.PluginRegistry;

/**
 * The running coordinator: its name, the plugins that joined it, the event log, and
 * the dispatcher that runs plugin events. One per framework.
 */
@Component(service = Coordinator.class, immediate = true, configurationPid = "org.stasis.coordinator",
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = CoordinatorConfig.class)
public class Coordinator {
    /** Framework property with the coordinator's name. */
    public static final String NAME_PROPERTY = "stasis.name";
    /** Framework property with the default checkpoint directory. */
    public static final String CKPT_DIR_PROPERTY = "stasis.ckpt.dir";

    private final PluginRegistry registry = new PluginRegistry();
    private final String name;
    private final Path checkpointDirectory;
    private final EventLog log;
    private final EventDispatcher dispatcher;

    /**
     * @param context the framework bundle's context, for the launcher's properties
     * @param config the configuration
     */
    @Activate
    public Coordinator(BundleContext context, CoordinatorConfig config) {
        this.name = property(context, NAME_PROPERTY, "default");
        this.checkpointDirectory = Path.of(property(context, CKPT_DIR_PROPERTY,
                System.getProperty("user.home") + "/.local/share/stasis/checkpoints"));
        this.log = new EventLog(config.event_log_size());
        this.dispatcher = new EventDispatcher(registry, log, Duration.ofSeconds(config.plugin_timeout_seconds()));
    }

    @Deactivate
    void deactivate() {
        dispatcher.close();
    }

    /** @return the coordinator's name */
    public String name() {
        return name;
    }

    /** @return where checkpoints go unless a command says otherwise */
    public Path checkpointDirectory() {
        return checkpointDirectory;
    }

    /** @return the plugins and the order they run in */
    public PluginRegistry registry() {
        return registry;
    }

    /** @return the event log */
    public EventLog log() {
        return log;
    }

    /** @return the dispatcher that runs plugin events */
    public EventDispatcher dispatcher() {
        return dispatcher;
    }

    /** @return the computation this coordinator manages */
    public Computation computation() {
        return new Computation() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<ProcessInfo> processes() {
                return List.of();
            }
        };
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPreCheckpoint(PreCheckpointCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.PRE_CHECKPOINT, callback, reference);
    }

    void removePreCheckpoint(ServiceReference<?> reference) {
        remove(LifecycleEvent.PRE_CHECKPOINT, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDrain(DrainCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.DRAIN, callback, reference);
    }

    void removeDrain(ServiceReference<?> reference) {
        remove(LifecycleEvent.DRAIN, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addWrite(WriteCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.WRITE, callback, reference);
    }

    void removeWrite(ServiceReference<?> reference) {
        remove(LifecycleEvent.WRITE, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addRestart(RestartCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.RESTART, callback, reference);
    }

    void removeRestart(ServiceReference<?> reference) {
        remove(LifecycleEvent.RESTART, reference);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addResume(ResumeCallback callback, ServiceReference<?> reference) {
        add(LifecycleEvent.RESUME, callback, reference);
    }

    void removeResume(ServiceReference<?> reference) {
        remove(LifecycleEvent.RESUME, reference);
    }

    private void add(LifecycleEvent event, Object callback, ServiceReference<?> reference) {
        registry.add(new PluginCallback(pluginId(reference), event, callback, ranking(reference),
                (Long) reference.getProperty(Constants.SERVICE_ID), bundleName(reference)));
    }

    private void remove(LifecycleEvent event, ServiceReference<?> reference) {
        registry.remove((Long) reference.getProperty(Constants.SERVICE_ID), event);
    }

    private static String pluginId(ServiceReference<?> reference) {
        for (String key : List.of(StasisPlugin.PROPERTY, "component.name")) {
            Object value = reference.getProperty(key);
            if (value instanceof String s && !s.isBlank()) {
                return s;
            }
        }
        return reference.getBundle().getSymbolicName();
    }

    private static int ranking(ServiceReference<?> reference) {
        return reference.getProperty(Constants.SERVICE_RANKING) instanceof Integer i ? i : 0;
    }

    private static String bundleName(ServiceReference<?> reference) {
        var bundle = reference.getBundle();
        return bundle == null ? "?" : bundle.getSymbolicName() + " " + bundle.getVersion();
    }

    private static String property(BundleContext context, String key, String fallback) {
        String value = context.getProperty(key);
        return value == null || value.isBlank() ? fallback : value;
    }
}
