package org.stasis.plugin.vnc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Component;
import org.stasis.api.CheckpointContext;
import org.stasis.api.Computation;
import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.api.RestartCallback;
import org.stasis.api.RestartContext;
import org.stasis.api.ResumeCallback;
import org.stasis.api.ResumeContext;
import org.stasis.api.StasisPlugin;
import org.stasis.api.StatusCallback;
import org.stasis.api.WriteCallback;

/**
 * The X displays of the VNC servers (Xvnc) of a computation (doc/graphics.md).
 *
 * <p>Xvnc is an ordinary process of the computation: its memory (the screen, the
 * windows) comes back with it, and its sockets (the X socket {@code /tmp/.X11-unix/X<n>},
 * path and abstract, and its RFB socket) with the socket plugin. What is outside its
 * memory and its descriptors is this plugin's: at checkpoint it notes each server's
 * display; at restart it stops with one line when another X server holds that display
 * now (before the socket plugin would fail on the name), removes the lock file the
 * killed server left, and once the server exists again writes the display's lock file
 * {@code /tmp/.X<n>-lock} with its pid, so that other X servers keep off the display
 * (only for a server that had one: started with {@code -displayfd}, as
 * {@code stasis.start_graphics()} does, an X server writes none).
 * Runs after the socket plugin at checkpoint and before it at restart. A graphics
 * server killed by hand refuses the next checkpoint and shows in {@code stasis status}.
 */
@Component(property = "service.ranking:Integer=140")
@StasisPlugin("vnc")
public class VncPlugin implements WriteCallback, RestartCallback, ResumeCallback, StatusCallback {
    private static final String DISPLAY = "display.";
    private static final String LOCK = "lock.";
    private static final String GRAPHICS_SOCKET = "STASIS_VNC_SOCKET";
    private static final String RESTORED = "restored-displays";

    private final XDisplays displays;

    /** The component: this host's /proc and /tmp. */
    public VncPlugin() {
        this(new XDisplays(Path.of("/proc"), Path.of("/tmp")));
    }

    VncPlugin(XDisplays displays) {
        this.displays = displays;
    }

    @Override
    public void write(CheckpointContext context) throws IOException {
        for (ProcessInfo p : context.computation().processes()) {
            if (!displays.isXvnc(p.hostPid())) {
                continue;
            }
            Set<String> inodes = context.openFds(p.pid()).stream()
                    .filter(fd -> fd.kind() == OpenFd.Kind.SOCKET)
                    .map(fd -> fd.target().substring("socket:[".length(), fd.target().length() - 1))
                    .collect(Collectors.toSet());
            OptionalInt display = displays.displayOf(p.hostPid(), inodes);
            if (display.isPresent()) {
                context.records().put(DISPLAY + p.pid(), Integer.toString(display.getAsInt()));
                Optional<String> lock = displays.lockContent(display.getAsInt());
                lock.ifPresent(content -> context.records().put(LOCK + p.pid(), content));
                context.log("process " + p.pid() + " serves X display :" + display.getAsInt());
            }
        }
        List<String> gone = goneServers(context.computation());
        if (!gone.isEmpty()) {
            throw new IOException(gone.get(0) + ": its windows cannot come back; start the program again with its graphics");
        }
    }

    /** {@code stasis status}: a graphics server of the computation killed by hand. */
    @Override
    public List<String> warnings(Computation computation) {
        return goneServers(computation).stream()
                .map(line -> line + ": the next checkpoint will be refused; start the program again with its graphics")
                .toList();
    }

    /**
     * Processes started on the graphics of the computation ({@code STASIS_VNC_SOCKET} in
     * their environment, as {@code stasis launch --graphics} and
     * {@code stasis.start_graphics()} set it) whose Xvnc is no longer there: their windows
     * could not come back.
     *
     * @return one line per such process: {@code the graphics server (Xvnc :N) of process P is gone (killed?)}
     */
    private List<String> goneServers(Computation computation) {
        Set<String> servers = new HashSet<>();
        for (ProcessInfo p : computation.processes()) {
            if (displays.isXvnc(p.hostPid())) {
                displays.rfbSocket(p.hostPid()).ifPresent(servers::add);
            }
        }
        List<String> gone = new java.util.ArrayList<>();
        for (ProcessInfo p : computation.processes()) {
            Optional<String> socket = displays.startEnvironment(p.hostPid(), GRAPHICS_SOCKET);
            if (socket.isPresent() && !servers.contains(socket.get())) {
                String display = displays.startEnvironment(p.hostPid(), "DISPLAY").map(d -> " " + d).orElse("");
                gone.add("the graphics server (Xvnc" + display + ") of process " + p.pid() + " is gone (killed?)");
            }
        }
        return gone;
    }

    @Override
    public void restart(RestartContext context) throws IOException {
        Map<Integer, Integer> restored = new HashMap<>();
        for (Map.Entry<String, String> record : context.records().asMap().entrySet()) {
            if (!record.getKey().startsWith(DISPLAY)) {
                continue;
            }
            int pid = Integer.parseInt(record.getKey().substring(DISPLAY.length()));
            int n = Integer.parseInt(record.getValue());
            Optional<String> taken = displays.takenBy(n);
            if (taken.isPresent()) {
                throw new IllegalStateException("X display :" + n + " of the checkpoint is taken: " + taken.get()
                        + "; stop that server or restart where display :" + n + " is free");
            }
            Optional<String> lock = context.records().get(LOCK + pid);
            if (lock.isEmpty()) {
                continue;                  // a server without a lock file (Xvnc -displayfd): nothing to write
            }
            if (displays.removeStaleLock(n, lock.get())) {
                context.log("removed the lock file " + displays.lock(n) + " the killed X server had left");
            }
            restored.put(pid, n);
        }
        context.store().put(RESTORED, restored);
    }

    @Override
    public void resume(ResumeContext context) throws IOException {
        if (!context.isRestart()) {
            return;
        }
        @SuppressWarnings("unchecked")
        Map<Integer, Integer> restored = context.store().get(RESTORED, Map.class).orElse(Map.of());
        for (ProcessInfo p : context.computation().processes()) {
            Integer n = restored.get(p.pid());
            if (n != null && displays.writeLock(n, p.hostPid())) {
                context.log("X display :" + n + ": lock file " + displays.lock(n) + " written for process " + p.pid());
            }
        }
    }
}
