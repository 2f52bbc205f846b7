package org.stasis.cli;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling for something a coordinator does in the background (a file it applies, a cache it writes). */
final class Await {
    private Await() {
    }

    /**
     * @param done checked every 250 ms
     * @param limit how long to keep checking
     * @return whether {@code done} became true within {@code limit}
     * @throws InterruptedException if interrupted while waiting
     */
    static boolean await(BooleanSupplier done, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(250);
        }
        return true;
    }
}
