package org.stasis.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The context of {@code preCheckpoint}, {@code drain} and {@code write}.
 */
@ProviderType
public interface CheckpointContext extends EventContext {
    /**
     * The plugin's records: small key/value data stored in the checkpoint's manifest
     * and handed back at restart through {@link RestartContext#records()}. Put large
     * data in {@link #pluginDirectory()} instead.
     *
     * @return the plugin's writable records
     */
    PluginRecords records();
}
