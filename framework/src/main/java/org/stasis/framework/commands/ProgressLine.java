package org.stasis.framework.commands;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.stasis.framework.lifecycle.Progress;

/**
 * One line on the user's terminal that a long checkpoint keeps rewriting: the phase
 * and the bytes each process has written so far (read from the growing image files,
 * so the agents need not report anything). Erased when the checkpoint ends.
 */
final class ProgressLine implements Progress, AutoCloseable {
    private final PrintStream terminal;
    private final Thread painter;
    private volatile Path staging;
    private volatile String phase = "starting";
    private volatile boolean done;
    private int width;

    ProgressLine(PrintStream terminal) {
        this.terminal = terminal;
        this.painter = new Thread(this::paintLoop, "stasis-progress");
        painter.setDaemon(true);
        painter.start();
    }

    @Override
    public void staging(Path directory) {
        staging = directory;
    }

    @Override
    public void phase(String name) {
        phase = name;
    }

    private void paintLoop() {
        try {
            while (!done) {
                Thread.sleep(200);
                paint(line());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String line() {
        StringBuilder text = new StringBuilder("checkpoint: ").append(phase);
        Path directory = staging;
        if (directory != null) {
            try (Stream<Path> files = Files.list(directory)) {
                String written = files.filter(p -> p.toString().endsWith(".img")).sorted()
                        .map(p -> String.format("%s %.0f MiB", p.getFileName().toString().replace("image-", "pid ")
                                .replace(".img", ""), size(p) / 1048576.0))
                        .collect(Collectors.joining(", "));
                if (!written.isEmpty()) {
                    text.append(" — ").append(written);
                }
            } catch (IOException e) {
                // Published or discarded meanwhile: the phase says enough.
            }
        }
        return text.toString();
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private synchronized void paint(String text) {
        String padded = text.length() < width ? text + " ".repeat(width - text.length()) : text;
        width = text.length();
        terminal.print("\r" + padded);
        terminal.flush();
    }

    @Override
    public void close() throws InterruptedException {
        done = true;
        painter.join(1000);
        synchronized (this) {
            if (width > 0) {
                terminal.print("\r" + " ".repeat(width) + "\r");
                terminal.flush();
            }
        }
    }
}
