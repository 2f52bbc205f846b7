package org.stasis.framework.inspect;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The read-only commands on checkpoints on disk, without a coordinator (after a crash,
 * on another machine, in a cron job): {@code verify}, {@code list}, {@code info}.
 * {@code bin/stasis} runs it with plain {@code java} (no Felix: the store classes,
 * plugin-api and Jackson on the class path), and prints what the coordinator's
 * commands of the same names print. Exit status: 0 ok, 1 failed, 2 usage error.
 *
 * <p>Usage: {@code InspectMain --home DIST (verify|info) [--json] [--trust] CHECKPOINT}
 * or {@code InspectMain --home DIST list [--json] [--ckpt-dir D] [--computation ID] [--lineage-of ID]};
 * {@code --name N} is taken and ignored (no coordinator is asked).
 */
public final class InspectMain {
    static final int FAILED = 1;
    static final int USAGE = 2;
    private static final Set<String> FLAGS = Set.of("--json", "--trust");
    private static final Set<String> VALUED = Set.of("--home", "--name", "--ckpt-dir", "--computation", "--lineage-of");

    private InspectMain() {
    }

    /** @param args {@code --home DIST COMMAND OPTIONS...} */
    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                StandardCharsets.UTF_8);
        System.exit(run(args, out, err));
    }

    /**
     * @param args {@code --home DIST COMMAND OPTIONS...}
     * @param out where results go
     * @param err where the error line goes
     * @return the exit status
     */
    static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            Parsed parsed = Parsed.of(args);
            out.println(execute(parsed));
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("stasis: " + e.getMessage());
            return USAGE;
        } catch (InspectionFailedException e) {
            if (e.output() != null) {
                out.println(e.output());
            }
            err.println("stasis: " + e.getMessage());
            return FAILED;
        } catch (RuntimeException e) {
            err.println("stasis: " + (e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("")));
            return FAILED;
        } catch (StackOverflowError | OutOfMemoryError e) {
            err.println("stasis: the checkpoint is too large or too deeply nested to read (" + e.getClass().getSimpleName()
                    + "); raise -Xss or -Xmx in STASIS_JAVA_OPTS");
            return FAILED;
        }
    }

    private static String execute(Parsed p) {
        boolean json = p.flag("--json");
        switch (p.command) {
            case "verify":
                return CheckpointVerifier.verify(p.home().resolve("bin/stasis-restore"), p.checkpoint(),
                        p.flag("--trust"), json);
            case "info":
                return CheckpointInfo.info(p.checkpoint(), p.flag("--trust"), json);
            case "compact":
                return compact(p.home().resolve("bin/stasis-restore"), p.checkpoint());
            case "list":
                p.noPositional();
                Path root = p.value("--ckpt-dir").map(Path::of).orElse(org.stasis.framework.util.DefaultCheckpoints.directory()).toAbsolutePath();
                return CheckpointListing.list(root, p.value("--computation").orElse(""),
                        p.value("--lineage-of").orElse(""), id -> Optional.empty(), json);
            default:
                throw new IllegalArgumentException("unknown command '" + p.command + "'; see stasis --help");
        }
    }

    /** The command word, its options and its positional arguments. */
    private static final class Parsed {
        private final String command;
        private final Map<String, String> values = new HashMap<>();
        private final List<String> positional = new ArrayList<>();

        private Parsed(String command) {
            this.command = command;
        }

        static Parsed of(String[] args) {
            List<String> rest = new ArrayList<>(List.of(args));
            Map<String, String> leading = new HashMap<>();
            while (!rest.isEmpty() && rest.get(0).equals("--home")) {
                if (rest.size() < 2) {
                    throw new IllegalArgumentException("--home needs a directory");
                }
                leading.put("--home", rest.get(1));
                rest.subList(0, 2).clear();
            }
            if (rest.isEmpty()) {
                throw new IllegalArgumentException("a command is needed: verify, list or info; see stasis --help");
            }
            Parsed parsed = new Parsed(rest.remove(0));
            parsed.values.putAll(leading);
            boolean options = true;
            for (int i = 0; i < rest.size(); i++) {
                String a = rest.get(i);
                String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
                if (options && a.equals("--")) {
                    options = false;
                } else if (options && FLAGS.contains(a)) {
                    parsed.values.put(a, "true");
                } else if (options && VALUED.contains(name)) {
                    if (a.contains("=")) {
                        parsed.values.put(name, a.substring(a.indexOf('=') + 1));
                    } else if (i + 1 < rest.size()) {
                        parsed.values.put(a, rest.get(++i));
                    } else {
                        throw new IllegalArgumentException(a + " needs a value; see: stasis " + parsed.command + " --help");
                    }
                } else if (options && a.startsWith("-") && a.length() > 1) {
                    throw new IllegalArgumentException("unknown option '" + a + "' for " + parsed.command + "; see: stasis "
                            + parsed.command + " --help");
                } else {
                    parsed.positional.add(a);
                }
            }
            return parsed;
        }

        boolean flag(String name) {
            return values.containsKey(name);
        }

        Optional<String> value(String name) {
            return Optional.ofNullable(values.get(name)).filter(v -> !v.isEmpty());
        }

        Path home() {
            return Path.of(value("--home").orElse("."));
        }

        Path checkpoint() {
            if (positional.size() != 1) {
                throw new IllegalArgumentException(command + " takes one checkpoint: stasis " + command
                        + " DIR (a checkpoint directory, or D/latest)");
            }
            return Path.of(positional.get(0));
        }

        void noPositional() {
            if (!positional.isEmpty()) {
                throw new IllegalArgumentException(command + " takes no argument '" + positional.get(0)
                        + "'; see: stasis " + command + " --help");
            }
        }
    }

    // stasis compact CKPT: the copy's directory, or one line saying why not
    private static String compact(java.nio.file.Path restorer, java.nio.file.Path checkpoint) {
        try {
            return org.stasis.framework.store.Compaction.compact(restorer, checkpoint).toString();
        } catch (org.stasis.framework.store.CheckpointInvalidException | java.io.IOException e) {
            throw new InspectionFailedException("cannot compact " + checkpoint + ": " + e.getMessage(), e, null);
        }
    }
}
