package org.stasis.framework.launch;

import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

/**
 * Starts bundles of a started framework one after the other on the thread that runs it, and
 * keeps going past a bundle that fails: the launcher reports the first failure once every group
 * has run.
 */
final class BundleStarter implements Runnable {
    private final List<Bundle> bundles;
    private final List<String> failures = new ArrayList<>();

    BundleStarter(List<Bundle> bundles) {
        this.bundles = List.copyOf(bundles);
    }

    @Override
    public void run() {
        for (Bundle bundle : bundles) {
            try {
                // Transiently: the launcher starts them at every start, two groups at once; marked
                // as persistently started in a kept cache, the framework would start them itself,
                // one after the other, before the launcher could.
                bundle.start(Bundle.START_TRANSIENT | Bundle.START_ACTIVATION_POLICY);
            } catch (BundleException | RuntimeException e) {
                failures.add(bundle.getSymbolicName() + ": " + e.getMessage());
            }
        }
    }

    /** @return one line per bundle that did not start; read it after {@link #run()} has returned */
    List<String> failures() {
        return List.copyOf(failures);
    }
}
