package org.stasis.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The context of {@code restart}: what the checkpoint holds for the plugin, and the
 * plan that the core carries out once every plugin has contributed to it.
 */
@ProviderType
public interface RestartContext extends EventContext {
    /** @return the records the plugin stored at checkpoint time (read-only) */
    PluginRecords records();

    /** @return the restart plan to contribute to */
    RestartPlan plan();
}
