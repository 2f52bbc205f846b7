package org.stasis.framework.core;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the coordinator (Configuration Admin pid {@code org.stasis.coordinator}). */
@ObjectClassDefinition(name = "Stasis coordinator", description = "How the coordinator runs plugins and keeps its log.")
public @interface CoordinatorConfig {
    /** @return seconds one plugin may spend on one event before it is cut off and the operation aborted */
    @AttributeDefinition(name = "Plugin timeout (s)", min = "1")
    int plugin_timeout_seconds() default 60;

    /** @return how many event log entries to keep (read when the coordinator starts) */
    @AttributeDefinition(name = "Event log size", min = "10")
    int event_log_size() default 2000;
}
