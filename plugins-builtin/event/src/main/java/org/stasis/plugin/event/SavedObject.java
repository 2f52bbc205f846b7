package org.stasis.plugin.event;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.stasis.api.PluginRecords;

/**
 * One event object as the checkpoint keeps it: its state and every descriptor that
 * refers to it. In the manifest, object N is {@code object.N} (the state) and
 * {@code holders.N} (the descriptors).
 *
 * @param state the object's state
 * @param holders the descriptors, at least one
 */
record SavedObject(EventState state, List<Holder> holders) {
    private static final String OBJECT = "object.";
    private static final String HOLDERS = "holders.";

    SavedObject {
        holders = List.copyOf(holders);
    }

    void store(PluginRecords records, int number) {
        records.put(OBJECT + number, state.encodeWithKind());
        records.put(HOLDERS + number, Holder.encode(holders));
    }

    static List<SavedObject> load(PluginRecords records) throws IOException {
        List<SavedObject> objects = new ArrayList<>();
        for (Map.Entry<String, String> record : records.asMap().entrySet()) {
            if (!record.getKey().startsWith(OBJECT)) {
                continue;
            }
            String number = record.getKey().substring(OBJECT.length());
            String holders = records.get(HOLDERS + number)
                    .orElseThrow(() -> new IOException("the checkpoint has event object " + number + " but no holders"));
            objects.add(new SavedObject(EventState.decode(record.getValue()), Holder.decode(holders)));
        }
        return objects;
    }
}
