package org.stasis.plugin.event;

import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.FdSource;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.WriteCallback;

/**
 * The descriptors event loops (asyncio, libuv, ...) are built on: epoll instances with
 * their registrations, eventfd counters, timerfd timers, signalfd masks and inotify
 * watches. At checkpoint the plugin reads each object's state from the kernel; at
 * restart it creates the objects again in the coordinator and passes them to every
 * process and fd number that held them, so objects shared after fork stay shared; once
 * every plugin's descriptors are installed, it registers the epoll interests again
 * inside the processes. A checkpoint that is not restarted leaves the objects alone.
 */
@Component(property = "service.ranking:Integer=120")
@StasisPlugin("event")
public class EventPlugin implements WriteCallback, RestartCallback, ResumeCallback {
    // From restart to the resume that follows it, in the operation store: the registrations to make.
    private static final String PENDING = "pending-registrations";

    private final Kernel kernel;

    public EventPlugin() {
        this(new Kernel());
    }

    EventPlugin(Kernel kernel) {
        this.kernel = kernel;
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        List<SavedObject> objects = new Survey(context, kernel).take();
        Map<EventKind, Integer> counts = new EnumMap<>(EventKind.class);
        for (int i = 0; i < objects.size(); i++) {
            objects.get(i).store(context.records(), i);
            counts.merge(objects.get(i).state().kind(), 1, Integer::sum);
        }
        if (!objects.isEmpty()) {
            context.log("saved " + describe(counts));
        }
    }

    @Override
    public void restart(RestartContext context) throws IOException {
        Recreator recreator = new Recreator(kernel, context::log, context.plan()::rewrite);
        List<Registration> registrations = new ArrayList<>();
        for (SavedObject object : SavedObject.load(context.records())) {
            Holder first = object.holders().get(0);
            int descriptor = recreator.create(object.state(), first.flags(),
                    "fd " + first.fd() + " of process " + first.pid());
            for (Holder holder : object.holders()) {
                context.plan().process(holder.pid()).installFd(holder.fd(), new FdSource.Passed(descriptor, holder.flags()));
            }
            if (object.state() instanceof EpollState epoll) {
                planRegistrations(context, object.holders(), epoll, registrations);
            }
        }
        context.store().put(PENDING, new Registrations(List.copyOf(registrations)));
    }

    private static void planRegistrations(RestartContext context, List<Holder> holders, EpollState epoll,
            List<Registration> registrations) {
        for (EpollState.Interest interest : epoll.interests()) {
            Holder epfd = holders.stream().filter(holder -> holder.pid() == interest.pid()).findFirst().orElse(null);
            if (epfd == null) {
                context.log("epoll registration of fd " + interest.fd() + " in process " + interest.pid()
                        + " skipped: that process holds no descriptor of the epoll instance");
                continue;
            }
            registrations.add(new Registration(interest.pid(), epfd.fd(), interest.fd(), interest.events(),
                    interest.data()));
        }
    }

    @Override
    public void resume(ResumeContext context) {
        if (!context.isRestart()) {
            return;
        }
        List<Registration> registrations = context.store().remove(PENDING, Registrations.class)
                .map(Registrations::all).orElse(List.of());
        int made = 0;
        for (Registration registration : registrations) {
            try {
                context.processes().epollAdd(registration.pid(), registration.epfd(), registration.fd(),
                        registration.events(), registration.data());
                made++;
            } catch (IOException e) {
                context.log("epoll fd " + registration.epfd() + " of process " + registration.pid()
                        + ": fd " + registration.fd() + " not registered again (" + e.getMessage()
                        + "); the program will not hear from it");
            }
        }
        if (!registrations.isEmpty()) {
            context.log("registered " + made + " of " + registrations.size() + " epoll interests again");
        }
    }

    /** What restart leaves in the store for resume (a record: the store's values are typed by class). */
    private record Registrations(List<Registration> all) {
    }

    private static String describe(Map<EventKind, Integer> counts) {
        StringBuilder text = new StringBuilder();
        counts.forEach((kind, count) -> text.append(text.length() == 0 ? "" : ", ").append(count).append(' ')
                .append(kind.name().toLowerCase()).append(count == 1 ? "" : "s"));
        return text.toString();
    }
}
