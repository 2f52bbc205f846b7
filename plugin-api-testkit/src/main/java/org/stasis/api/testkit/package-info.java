/**
 * Test doubles of the Stasis core for plugin unit tests, so that a plugin's callbacks
 * run in a plain JUnit test, without a coordinator or a checkpointed program.
 *
 * <p>{@link org.stasis.api.testkit.FakeComputation} plays the core: its processes are
 * sets of real descriptors of the test JVM (pipes, files, sockets the test opens with
 * {@link org.stasis.api.testkit.Descriptors} or otherwise), at the same numbers, so what
 * a plugin inspects or creates is a real kernel object. It hands out the
 * {@link org.stasis.api.CheckpointContext}, {@link org.stasis.api.RestartContext} and
 * {@link org.stasis.api.ResumeContext} of one checkpoint and restart, and keeps what
 * the plugin did: records, log lines, the restart plan
 * ({@link org.stasis.api.testkit.FakePlan}).
 *
 * <p>{@link org.stasis.api.testkit.FakeParts} plays a computation that spans hosts: one
 * {@code FakeComputation} per part, their plugins' {@code exchange} calls synchronised
 * as the core's (since 1.1).
 */
@Version("1.1.0")
@Export
package org.stasis.api.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
