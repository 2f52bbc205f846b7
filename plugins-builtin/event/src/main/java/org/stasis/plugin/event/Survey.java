package org.stasis.plugin.event;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.stasis.api.CheckpointContext;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessAccess;
import org.stasis.api.ProcessInfo;

/**
 * The checkpoint side: finds the event objects of the suspended computation, tells
 * apart the objects behind its descriptors, and reads each object's state from the
 * kernel. Nothing here changes what the processes see.
 */
final class Survey {
    private static final int WALK_LIMIT = 50_000;

    private final CheckpointContext context;
    private final ProcessAccess access;
    private final Kernel kernel;
    private final Identity identity;
    private final Map<Integer, Map<Integer, OpenFd>> fds = new LinkedHashMap<>();
    private WatchPaths paths;

    /** The descriptors of one object, and a duplicate of the first one in the coordinator. */
    private record Group(EventKind kind, List<Holder> holders, int duplicate) {
    }

    Survey(CheckpointContext context, Kernel kernel) {
        this.context = context;
        this.access = context.processes();
        this.kernel = kernel;
        this.identity = new Identity(kernel);
        for (ProcessInfo process : context.computation().processes()) {
            Map<Integer, OpenFd> byNumber = new LinkedHashMap<>();
            for (OpenFd fd : context.openFds(process.pid())) {
                byNumber.put(fd.fd(), fd);
            }
            fds.put(process.pid(), byNumber);
        }
    }

    /** @return the computation's event objects, each with all its descriptors */
    List<SavedObject> take() throws IOException {
        List<SavedObject> objects = new ArrayList<>();
        for (Group group : groups()) {
            objects.add(new SavedObject(describe(group), group.holders()));
        }
        return objects;
    }

    private List<Group> groups() throws IOException {
        List<Group> groups = new ArrayList<>();
        for (Map.Entry<Integer, Map<Integer, OpenFd>> process : fds.entrySet()) {
            for (OpenFd fd : process.getValue().values()) {
                Optional<EventKind> kind = EventKind.of(fd.target());
                if (kind.isPresent()) {
                    join(groups, kind.get(), new Holder(process.getKey(), fd.fd(), fd.flags()));
                }
            }
        }
        return groups;
    }

    private void join(List<Group> groups, EventKind kind, Holder holder) throws IOException {
        int duplicate = access.duplicate(holder.pid(), holder.fd());
        for (Group group : groups) {
            if (group.kind() == kind && identity.sameFile(group.duplicate(), duplicate)) {
                group.holders().add(holder);
                return;
            }
        }
        List<Holder> holders = new ArrayList<>();
        holders.add(holder);
        groups.add(new Group(kind, holders, duplicate));
    }

    private EventState describe(Group group) throws IOException {
        Holder first = group.holders().get(0);
        List<String> fdinfo = access.fdInfo(first.pid(), first.fd());
        return switch (group.kind()) {
            case EVENTFD -> EventfdState.parse(fdinfo);
            case TIMERFD -> TimerState.parse(fdinfo, TimerState.now());
            case SIGNALFD -> SignalState.parse(fdinfo);
            case INOTIFY -> inotify(group, fdinfo);
            case EPOLL -> epoll(group, fdinfo);
        };
    }

    private InotifyState inotify(Group group, List<String> fdinfo) throws IOException {
        if (paths == null) {
            paths = new WatchPaths(kernel, Path.of("/proc/self/mountinfo"), hints(), WALK_LIMIT);
        }
        InotifyState state = InotifyState.parse(fdinfo, paths);
        Holder first = group.holders().get(0);
        for (InotifyState.Watch watch : state.watches()) {
            if (!watch.resolved()) {
                context.log("inotify fd " + first.fd() + " of process " + first.pid() + ": no path found for watch "
                        + watch.wd() + " (inode " + watch.inode() + " on device " + (watch.device() >>> 20) + ":"
                        + (watch.device() & 0xfffff) + "); it will not report events after a restart");
            }
        }
        int pending = kernel.pendingBytes(group.duplicate());
        if (pending > 0) {
            context.log("inotify fd " + first.fd() + " of process " + first.pid() + ": " + pending
                    + " bytes of unread events are not saved");
        }
        return state;
    }

    // Where watched files are likely: the processes' working directories first (also
    // the roots of the walk), then the files they have open.
    private List<Path> hints() {
        Set<Path> hints = new LinkedHashSet<>();
        for (ProcessInfo process : context.computation().processes()) {
            try {
                hints.add(Path.of("/proc", Integer.toString(process.hostPid()), "cwd").toRealPath());
            } catch (IOException e) {
                // A process without a readable working directory gives no hint.
            }
        }
        for (Map<Integer, OpenFd> byNumber : fds.values()) {
            for (OpenFd fd : byNumber.values()) {
                if (fd.kind() == OpenFd.Kind.PATH || fd.kind() == OpenFd.Kind.DEVICE) {
                    hints.add(Path.of(fd.path()));
                }
            }
        }
        return new ArrayList<>(hints);
    }

    private EpollState epoll(Group group, List<String> fdinfo) throws IOException {
        List<EpollState.Interest> interests = new ArrayList<>();
        Holder first = group.holders().get(0);
        for (EpollState.Item item : EpollState.items(fdinfo)) {
            Optional<EpollState.Interest> interest = interest(group, item);
            if (interest.isPresent()) {
                interests.add(interest.get());
            } else {
                context.log("epoll fd " + first.fd() + " of process " + first.pid() + " watches a file registered as fd "
                        + item.fd() + " that no process holding the epoll has at that number any more"
                        + " (closed after registering it); that registration is not saved");
            }
        }
        return new EpollState(interests);
    }

    // A registration can only be made again in a process whose fd at that number is the registered file.
    private Optional<EpollState.Interest> interest(Group group, EpollState.Item item) throws IOException {
        Set<Integer> tried = new LinkedHashSet<>();
        for (Holder holder : group.holders()) {
            if (!tried.add(holder.pid()) || !fds.get(holder.pid()).containsKey(item.fd())) {
                continue;
            }
            int candidate = access.duplicate(holder.pid(), item.fd());
            Optional<Boolean> same = identity.registered(candidate, group.duplicate(), item.fd(), item.occurrence());
            boolean match = same.isPresent() ? same.get() : sameInode(holder.pid(), item);
            if (match) {
                return Optional.of(new EpollState.Interest(holder.pid(), item.fd(), item.events(), item.data()));
            }
        }
        return Optional.empty();
    }

    // Without kcmp, the inode is the best evidence there is (all anonymous ones look alike).
    private boolean sameInode(int pid, EpollState.Item item) throws IOException {
        return FdInfo.value(access.fdInfo(pid, item.fd()), "ino")
                .map(ino -> Long.parseLong(ino) == item.inode())
                .orElse(true);
    }
}
