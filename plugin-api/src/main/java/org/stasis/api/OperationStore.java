package org.stasis.api;

import java.util.Optional;
import java.util.function.Supplier;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A plugin's state for one operation: one checkpoint (from {@code preCheckpoint} to
 * the {@code resume} that ends it) or one restart (from {@code restart} to its
 * {@code resume}). Keep here what one phase hands to a later one, such as the data
 * {@code drain} took out of the kernel and {@code resume} puts back, instead of in
 * fields of the plugin: a field outlives the operation (a restart that fails before
 * {@code resume} leaves it set for the next one) and is shared by operations of
 * different computations.
 *
 * <p>Each plugin has its own store per operation; keys of different plugins never
 * meet. The core drops the store when the operation ends, whether it succeeded,
 * failed or was cancelled: values that implement {@link AutoCloseable} and are still
 * in the store then are closed (in reverse order of their {@code put}; a failure is
 * logged). After that every method throws {@link IllegalStateException}. The store is
 * safe to use from several threads.
 *
 * <pre>{@code
 * public void drain(CheckpointContext context) {
 *     context.store().put("taken", takeBuffers(context));
 * }
 * public void resume(ResumeContext context) {
 *     context.store().remove("taken", Taken.class).ifPresent(taken -> putBack(taken, context));
 * }
 * }</pre>
 *
 * @since 1.4
 */
@ProviderType
public interface OperationStore {
    /**
     * Stores a value, replacing any earlier value of the key.
     *
     * @param key a non-empty key
     * @param value a non-null value
     * @throws IllegalStateException if the operation has ended
     */
    void put(String key, Object value);

    /**
     * @param <T> the value's type
     * @param key the key
     * @param type the value's type
     * @return the value stored under the key, or empty if there is none
     * @throws ClassCastException if the value is not a {@code type}
     * @throws IllegalStateException if the operation has ended
     */
    <T> Optional<T> get(String key, Class<T> type);

    /**
     * @param <T> the value's type
     * @param key the key
     * @param type the value's type
     * @param create makes the value if the key has none yet
     * @return the value stored under the key, stored now if it was absent
     * @throws ClassCastException if the value is not a {@code type}
     * @throws IllegalStateException if the operation has ended
     */
    <T> T computeIfAbsent(String key, Class<T> type, Supplier<? extends T> create);

    /**
     * Takes a value out of the store: it is not closed when the operation ends.
     *
     * @param <T> the value's type
     * @param key the key
     * @param type the value's type
     * @return the value that was stored under the key, or empty if there was none
     * @throws ClassCastException if the value is not a {@code type}
     * @throws IllegalStateException if the operation has ended
     */
    <T> Optional<T> remove(String key, Class<T> type);
}
