package org.stasis.samples.reconnect;

/**
 * Configuration of the reconnect plugin, Configuration Admin pid
 * {@code org.stasis.samples.reconnect} (drop {@code org.stasis.samples.reconnect.cfg}
 * into the plugins folder). Declarative Services maps each method to the property
 * of the same name, '_' read as '.'.
 */
public @interface ReconnectConfig {
    /**
     * @return the services to reconnect to, each {@code address:port}
     *         ({@code 127.0.0.1:5432}, {@code [::1]:6379}); several may share one
     *         value separated by commas or spaces, as a {@code .cfg} file has only
     *         single values. Empty: the plugin does nothing.
     */
    String[] services() default {};

    /** @return how long one reconnect may wait for the service to answer */
    int connect_timeout_ms() default 2000;
}
