package org.stasis.framework.control;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.hooks.service.EventListenerHook;
import org.osgi.framework.hooks.service.FindHook;
import org.osgi.framework.hooks.service.ListenerHook.ListenerInfo;
import org.osgi.service.component.annotations.Component;

/**
 * Keeps shell commands that would open the coordinator to other users out of its
 * shell. Gogo's {@code telnetd} starts an unauthenticated TCP shell that any local
 * user could reach, bypassing the control socket's uid check and the token; the
 * service that provides it is hidden from every bundle but its own, so the command
 * processor never registers it. The framework bundle starts before the shell bundle
 * (start levels), so the hooks are in place before the command is offered.
 */
@Component(immediate = true, service = { FindHook.class, EventListenerHook.class })
public final class ShellCommandGuard implements FindHook, EventListenerHook {
    /** Command functions that open listeners. */
    static final Set<String> BANNED = Set.of("telnetd");

    @Override
    public void find(BundleContext context, String name, String filter, boolean allServices,
            Collection<ServiceReference<?>> references) {
        references.removeIf(ref -> isBanned(ref) && !ownedBy(ref, context));
    }

    @Override
    public void event(ServiceEvent event, Map<BundleContext, Collection<ListenerInfo>> listeners) {
        ServiceReference<?> ref = event.getServiceReference();
        if (isBanned(ref)) {
            listeners.keySet().removeIf(context -> !ownedBy(ref, context));
        }
    }

    static boolean isBanned(ServiceReference<?> ref) {
        return functions(ref.getProperty(CommandProcessor.COMMAND_FUNCTION)).stream().anyMatch(BANNED::contains);
    }

    private static boolean ownedBy(ServiceReference<?> ref, BundleContext context) {
        return ref.getBundle() != null && context.getBundle() != null
                && ref.getBundle().getBundleId() == context.getBundle().getBundleId();
    }

    static List<String> functions(Object property) {
        if (property instanceof String s) {
            return List.of(s.trim());
        }
        if (property instanceof String[] array) {
            return List.of(array);
        }
        if (property instanceof Collection<?> collection) {
            return collection.stream().map(String::valueOf).toList();
        }
        return List.of();
    }
}
