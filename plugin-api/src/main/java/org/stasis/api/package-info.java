/**
 * The Stasis plugin API: what a bundle implements to take part in checkpoints and
 * restarts, and what the core hands it while it does.
 *
 * <p>A plugin is a Declarative Services component that registers one or more of the
 * lifecycle callbacks ({@link org.stasis.api.PreCheckpointCallback},
 * {@link org.stasis.api.DrainCallback}, {@link org.stasis.api.WriteCallback},
 * {@link org.stasis.api.RestartCallback}, {@link org.stasis.api.ResumeCallback}) and
 * names itself with {@link org.stasis.api.StasisPlugin}. The core calls plugins in
 * descending {@code service.ranking} order on checkpoint and in the reverse order on
 * restart. A callback that throws, or does not return within the configured timeout,
 * aborts the checkpoint; the error names the plugin.
 *
 * <p>Outside checkpoints and restarts, a plugin may also register a
 * {@link org.stasis.api.StatusCallback} to add warnings to {@code stasis status}
 * (since 1.6).
 *
 * <p>A computation may span hosts (since 1.7): each host's share is a <em>part</em>,
 * and {@link org.stasis.api.EventContext#exchange} lets a plugin's instances in the
 * parts tell each other what they hold.
 *
 * <p>This package is semantically versioned: adding a method to a provider type is
 * a minor change, any change to a consumer type is a major one.
 */
@Version("1.7.0")
@Export
package org.stasis.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
