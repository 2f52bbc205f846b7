package org.stasis.framework.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.stasis.framework.store.ProcessTree;

import org.stasis.api.OpenFd;
import org.stasis.api.ProcessInfo;
import org.stasis.framework.util.Descriptors;

/**
 * The coordinator's end of one process's agent (doc/agent-protocol.md): one request
 * at a time, each answered by one line (or an FD list ending in END).
 */
public final class Agent {
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** The computation of agents whose launch named none. */
    public static final String NO_COMPUTATION = "c0";

    private final UnixConnection connection;
    private final Map<String, String> hello;
    private volatile String command;
    // Restored and waiting for its restart to take it (HELLO state=suspended): until then it
    // still names the computation it was checkpointed in, which may run on and be checkpointed.
    private volatile boolean restoring;

    private Agent(UnixConnection connection, Map<String, String> hello, String command) {
        this.connection = connection;
        this.hello = hello;
        this.command = command;
        this.restoring = "suspended".equals(hello.get("state"));
    }

    /** @return whether a restart under way has yet to take this restored process ({@link #joined}) */
    public boolean restoring() {
        return restoring;
    }

    /** The restart took this process into its computation: from now on it belongs to that one. */
    void joined() {
        restoring = false;
    }

    /**
     * Reads the agent's HELLO.
     *
     * @param connection a freshly accepted connection
     * @param line its first line
     * @return the agent
     * @throws IOException if the peer is not a Stasis agent
     */
    static Agent handshake(UnixConnection connection, String line) throws IOException {
        if (!line.startsWith("HELLO ")) {
            throw new IOException("not an agent: " + line);
        }
        Map<String, String> fields = new java.util.concurrent.ConcurrentHashMap<>();
        int exe = line.indexOf(" exe=");
        String head = exe < 0 ? line : line.substring(0, exe);
        for (String field : head.substring(6).split(" ")) {
            int eq = field.indexOf('=');
            if (eq > 0) {
                fields.put(field.substring(0, eq), field.substring(eq + 1));
            }
        }
        fields.put("exe", exe < 0 ? "" : unescape(line.substring(exe + 5)));
        if (!fields.containsKey("pid")) {
            throw new IOException("agent HELLO without pid: " + line);
        }
        return new Agent(connection, fields, commandLine(connection.peerPid(), fields.get("exe")));
    }

    /** @return whether the process registered from a fork() (it waits for a PING) */
    boolean joinedByFork() {
        return "fork".equals(hello.get("join"));
    }

    /**
     * @return the process's parent, process group and session as last reported (pids
     *         inside the computation; 0 = outside its pid namespace)
     */
    public ProcessTree tree() {
        return new ProcessTree(pid(), field("ppid"), field("pgid"), field("sid"));
    }

    private int field(String key) {
        try {
            return Integer.parseInt(hello.getOrDefault(key, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Asks the agent for its registration line again: parent, process group and
     * session may have changed since it registered (setpgid, setsid, reparenting).
     *
     * @throws IOException if the agent does not answer
     */
    synchronized void refresh() throws IOException {
        connection.writeLine("HELLO");
        String line = answer(connection.readLine(Duration.ofSeconds(30)), "HELLO");
        Agent fresh = handshake(connection, line);
        for (String key : new String[] {"ppid", "pgid", "sid"}) {
            String value = fresh.hello.get(key);
            if (value != null) {
                hello.put(key, value);
            }
        }
    }

    private ProcessTree.ExitedChild zombie(String line) throws IOException {
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[0].equals("ZOMBIE")) {
            throw new IOException("process " + pid() + ": bad ZOMBIE line from agent: " + line);
        }
        return new ProcessTree.ExitedChild(Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
    }

    private OpenFd openFd(String line) throws IOException {
        String[] parts = line.split(" ", 5);
        if (parts.length < 5 || !parts[0].equals("FD")) {
            throw new IOException("process " + pid() + ": bad FD line from agent: " + line);
        }
        return new OpenFd(Integer.parseInt(parts[1]), unescape(parts[4]), Integer.parseInt(parts[2], 8),
                Long.parseLong(parts[3]));
    }

    /**
     * What a checkpoint reads of a suspended process.
     *
     * @param tree its parent, process group and session now, with its exited children
     * @param fds its open descriptors
     */
    public record Description(ProcessTree tree, List<OpenFd> fds) {
    }

    /**
     * {@link #refresh}, {@link #exitedChildren} and {@link #fds} asked at once: the three
     * requests in one write, the agent answers them in order. One wake-up of its thread
     * instead of three at every checkpoint (each a few milliseconds on a loaded machine).
     * Every answer is read before a refusal is reported, so that the connection stays in step.
     *
     * @return the process as a checkpoint records it
     * @throws IOException if the agent refuses one of them or does not answer
     */
    public synchronized Description describe() throws IOException {
        Duration timeout = Duration.ofSeconds(30);
        connection.writeLine("HELLO\nZOMBIES\nFDS");
        String helloLine = connection.readLine(timeout);
        String refused = helloLine.startsWith("ERROR") ? helloLine + " (HELLO)" : null;
        List<ProcessTree.ExitedChild> children = new ArrayList<>();
        for (String line = connection.readLine(timeout); !line.equals("END"); line = connection.readLine(timeout)) {
            if (line.startsWith("ERROR")) {
                refused = refused != null ? refused : line + " (ZOMBIES)";
                break;
            }
            children.add(zombie(line));
        }
        List<OpenFd> fds = new ArrayList<>();
        for (String line = connection.readLine(timeout); !line.equals("END"); line = connection.readLine(timeout)) {
            if (line.startsWith("ERROR")) {
                refused = refused != null ? refused : line + " (FDS)";
                break;
            }
            fds.add(openFd(line));
        }
        if (refused != null) {
            throw new AgentRefusedException("process " + pid() + " could not describe itself: " + refused);
        }
        Agent fresh = handshake(connection, helloLine);
        for (String key : new String[] {"ppid", "pgid", "sid"}) {
            String value = fresh.hello.get(key);
            if (value != null) {
                hello.put(key, value);
            }
        }
        ProcessTree place = tree();
        return new Description(new ProcessTree(place.pid(), place.parentPid(), place.processGroup(), place.session(),
                children), fds);
    }

    /**
     * @return the process's exited, unreaped children (agent request ZOMBIES)
     * @throws IOException if the agent cannot report them
     */
    public synchronized List<ProcessTree.ExitedChild> exitedChildren() throws IOException {
        connection.writeLine("ZOMBIES");
        List<ProcessTree.ExitedChild> children = new ArrayList<>();
        while (true) {
            String line = answer(connection.readLine(Duration.ofSeconds(30)), "ZOMBIES");
            if (line.equals("END")) {
                return children;
            }
            children.add(zombie(line));
        }
    }

    /** @return the pid inside the computation */
    public int pid() {
        return Integer.parseInt(hello.get("pid"));
    }

    /** @return the pid as the coordinator sees it */
    public int hostPid() {
        return connection.peerPid();
    }

    /** @return whether this process was restarted from a checkpoint */
    public boolean restored() {
        return !"0".equals(hello.getOrDefault("restored", "0"));
    }

    /** @return the process as plugins see it */
    public ProcessInfo info() {
        return new ProcessInfo(pid(), hostPid(), Integer.parseInt(hello.getOrDefault("ppid", "0")), command);
    }

    /**
     * A restored process's /proc shows the restorer's command line; the checkpoint
     * knows the real one.
     *
     * @param original the command line recorded at checkpoint time
     */
    void describeAs(String original) {
        this.command = original;
    }

    /**
     * @return the computation the process belongs to (its HELLO's {@code comp}), or
     *         {@link #NO_COMPUTATION} for an agent started without one
     */
    public String computation() {
        return hello.getOrDefault("comp", NO_COMPUTATION);
    }

    /**
     * Moves the process to another computation (agent request COMPUTATION): its later
     * children and exec'd programs belong there too.
     *
     * @param id the computation's id
     * @throws IOException if the agent refuses or does not answer
     */
    public void moveTo(String id) throws IOException {
        String answer = request("COMPUTATION " + id, REQUEST_TIMEOUT);
        if (!"OK".equals(answer)) {
            throw new IOException("process " + pid() + " did not move to computation " + id + ": " + answer);
        }
        hello.put("comp", id);
    }

    /** @return the process's resident memory in bytes (VmRSS), 0 if it cannot be read */
    public long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(hostPid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone, or a kernel without VmRSS: as small
        }
        return 0;
    }

    /** @return whether the process still exists */
    public boolean alive() {
        // an exited child that was not reaped yet (zombie) keeps its /proc entry
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(hostPid()), "stat"));
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Tells the process that the checkpoint it asked for ({@link CheckpointRequest})
     * will not come: its waiting thread goes on and hears it was aborted. The agent
     * ignores it if a RESUME has come since the request (that one woke the thread).
     *
     * @param sequence the request's sequence; nothing is sent for -1 (an agent that
     *        sent none)
     */
    public void decline(long sequence) {
        if (sequence < 0) {
            return;
        }
        try {
            request("DECLINED " + sequence, Duration.ofSeconds(10));
        } catch (IOException e) {
            // Gone: nobody waits any more.
        }
    }

    /**
     * Sends a request and returns the agent's one-line answer.
     *
     * @param request the request line
     * @param timeout how long the agent may take
     * @return the answer
     * @throws IOException if the agent is gone, too slow, or answers ERROR
     */
    public synchronized String request(String request, Duration timeout) throws IOException {
        connection.writeLine(request);
        return answer(connection.readLine(timeout), request);
    }

    /**
     * Has the agent pass one of its process's descriptors to the coordinator (GIVE).
     *
     * @param fd a descriptor of the process
     * @return a duplicate in the coordinator's process; the caller closes it
     * @throws IOException if the agent refuses or passes nothing
     */
    /**
     * Suspends a process that is stopped (SIGSTOP, SIGTSTP): its threads are held, the
     * request waits in the connection, and the process is continued, so that its
     * checkpoint thread suspends the held threads before they run the program.
     *
     * @param timeout how long to wait for the answer
     * @return the answer
     * @throws IOException if the agent does not answer or the process cannot be continued
     */
    synchronized String suspendStopped(Duration timeout) throws IOException {
        String cookie = hello.get("hold");
        if (cookie == null) {
            throw new AgentRefusedException("process " + pid() + " is stopped and its agent cannot be woken without running it;"
                    + " continue it (kill -CONT " + hostPid() + ") and checkpoint again");
        }
        connection.writeLine("SUSPEND");
        Stopped.holdAndContinue(hostPid(), Long.parseUnsignedLong(cookie, 16));
        return answer(connection.readLine(timeout), "SUSPEND");
    }

    public synchronized int give(int fd) throws IOException {
        connection.discardDescriptors();
        String answer = request("GIVE " + fd, REQUEST_TIMEOUT);
        int received = connection.nextDescriptor();
        if (!answer.equals("GIVEN " + fd) || received < 0) {
            throw new IOException("process " + pid() + " did not pass fd " + fd + ": " + answer);
        }
        return received;
    }

    /**
     * Installs a descriptor of the coordinator in the process at a given number (TAKE).
     *
     * @param fd the number in the process
     * @param descriptor the coordinator's descriptor (stays open here)
     * @param flags O_CLOEXEC for the new fd, O_NONBLOCK for its open file description
     * @throws IOException if the agent refuses
     */
    public synchronized void take(int fd, int descriptor, int flags) throws IOException {
        String request = "TAKE " + fd + " " + Integer.toOctalString(flags);
        connection.writeLine(request, descriptor);
        String answer = answer(connection.readLine(REQUEST_TIMEOUT), request);
        if (!answer.equals("TAKEN " + fd)) {
            throw new IOException("process " + pid() + " did not install fd " + fd + ": " + answer);
        }
    }

    /**
     * Makes the terminal at {@code fd} the process's controlling terminal and sets its
     * foreground process group (CTTY).
     *
     * @param fd the terminal's descriptor in the process
     * @param foregroundGroup the foreground group, 0 for none
     * @throws IOException if the agent refuses
     */
    public synchronized void controllingTerminal(int fd, int foregroundGroup) throws IOException {
        String answer = request("CTTY " + fd + " " + foregroundGroup, REQUEST_TIMEOUT);
        if (!answer.equals("CTTY_SET " + fd)) {
            throw new IOException("process " + pid() + " did not take fd " + fd + " as its controlling terminal: "
                    + answer);
        }
    }

    /**
     * Takes a file lock inside the process (LOCK), without waiting.
     *
     * @param lock the lock, on one of the process's descriptors
     * @throws IOException if the agent refuses, e.g. because someone else holds the lock now
     */
    public synchronized void lock(org.stasis.api.FileLock lock) throws IOException {
        String kind = lock.kind().name().toLowerCase(java.util.Locale.ROOT);
        String request = "LOCK " + lock.fd() + " " + kind + " " + (lock.write() ? "w" : "r") + " " + lock.start() + " "
                + lock.length();
        connection.writeLine(request);
        String answer = connection.readLine(REQUEST_TIMEOUT);
        if (!answer.equals("LOCKED")) {
            throw new IOException("process " + pid() + " cannot take its " + lock.describe() + " again: "
                    + answer.replaceFirst("^ERROR (cannot lock: )?", "") + "; stop whatever holds it now and restart again");
        }
    }

    /**
     * Registers a descriptor with an epoll instance inside the process (EPOLL_ADD).
     *
     * @param epfd the epoll descriptor in the process
     * @param fd the descriptor to watch
     * @param events the event mask
     * @param data the user data
     * @throws IOException if the agent refuses
     */
    public synchronized void epollAdd(int epfd, int fd, int events, long data) throws IOException {
        String answer = request("EPOLL_ADD " + epfd + " " + fd + " " + Integer.toHexString(events) + " "
                + Long.toHexString(data), REQUEST_TIMEOUT);
        if (!answer.equals("EPOLL_ADDED")) {
            throw new IOException("process " + pid() + " did not register fd " + fd + " with epoll fd " + epfd + ": "
                    + answer);
        }
    }

    /**
     * @return the process's open descriptors
     * @throws IOException if the agent cannot report them
     */
    public synchronized List<OpenFd> fds() throws IOException {
        connection.writeLine("FDS");
        List<OpenFd> fds = new ArrayList<>();
        while (true) {
            String line = answer(connection.readLine(Duration.ofSeconds(30)), "FDS");
            if (line.equals("END")) {
                return fds;
            }
            fds.add(openFd(line));
        }
    }

    /**
     * A path field of the agent protocol: the agent writes a backslash as two and a
     * newline as backslash-n, so that a file whose name has a newline in it stays one
     * field of one line (it can still not be reopened by a plan: the restart says so).
     */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 1 < field.length()) {
                char next = field.charAt(++i);
                out.append(next == 'n' ? '\n' : next);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private String answer(String line, String request) throws IOException {
        if (line.startsWith("ERROR")) {
            throw new AgentRefusedException("process " + pid() + " could not " + request.split(" ")[0].toLowerCase() + ": "
                    + line.substring(Math.min(line.length(), 6)));
        }
        return line;
    }

    /** Closes the connection; the agent lets its process run on unmanaged. */
    void close() {
        connection.close();
    }

    private static String commandLine(int hostPid, String exe) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Integer.toString(hostPid), "cmdline"));
            String text = new String(raw, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ').strip();
            return text.isEmpty() ? exe : text;
        } catch (IOException e) {
            return exe;
        }
    }
}
