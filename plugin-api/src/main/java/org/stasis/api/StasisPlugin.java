package org.stasis.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Names a plugin component. The name is the plugin's id: it appears in
 * {@code stasis:plugins}, in the event log, in error messages, and as the directory
 * {@code plugins/<id>/} that holds the plugin's blobs inside a checkpoint.
 *
 * <pre>{@code
 * @Component
 * @StasisPlugin("hello")
 * public class HelloPlugin implements PreCheckpointCallback { ... }
 * }</pre>
 *
 * <p>Ids are short, lower case, and made of letters, digits, '-' and '.'. A plugin
 * without this property is called by its component name.
 */
@ComponentPropertyType
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface StasisPlugin {
    /** The service property that carries the plugin id. */
    String PROPERTY = "stasis.plugin";

    /** @return the plugin id */
    String value();
}
