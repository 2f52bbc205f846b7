package org.stasis.framework.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import javax.xml.parsers.DocumentBuilderFactory;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The command components declare their functions with Gogo's {@code @GogoCommand}
 * component property type; the descriptors bnd generates from it must offer exactly
 * the public methods the shell documents, under scope {@code stasis}. Nothing here
 * repeats a function name: both sides come from the classes.
 */
class GogoCommandsTest {
    @ParameterizedTest
    @ValueSource(classes = { StasisCommands.class, ComputationCommands.class, ProgramCommands.class,
            SessionCommands.class, OptionCommands.class, CoordinatorCommands.class })
    void theDescriptorOffersEveryDocumentedMethodUnderScopeStasis(Class<?> commands) throws Exception {
        Element component = descriptor(commands);

        assertEquals(List.of("stasis"), property(component, CommandProcessor.COMMAND_SCOPE));
        Set<String> documented = Arrays.stream(commands.getDeclaredMethods())
                .filter(m -> Modifier.isPublic(m.getModifiers()) && m.isAnnotationPresent(Descriptor.class))
                .map(Method::getName).collect(Collectors.toCollection(TreeSet::new));
        assertTrue(!documented.isEmpty(), commands + " documents no command");
        assertEquals(documented, new TreeSet<>(property(component, CommandProcessor.COMMAND_FUNCTION)));
    }

    private static Element descriptor(Class<?> commands) throws Exception {
        String path = "OSGI-INF/" + commands.getName() + ".xml";
        try (InputStream in = commands.getClassLoader().getResourceAsStream(path)) {
            assertNotNull(in, "no " + path + ": bnd did not generate the component descriptor");
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in).getDocumentElement();
        }
    }

    // A single value is an attribute; several are the element's lines.
    private static List<String> property(Element component, String name) {
        NodeList properties = component.getElementsByTagName("property");
        for (int i = 0; i < properties.getLength(); i++) {
            Element property = (Element) properties.item(i);
            if (property.getAttribute("name").equals(name)) {
                if (property.hasAttribute("value")) {
                    return List.of(property.getAttribute("value"));
                }
                List<String> values = new ArrayList<>();
                property.getTextContent().lines().map(String::strip).filter(l -> !l.isEmpty()).forEach(values::add);
                return values;
            }
        }
        return List.of();
    }
}
