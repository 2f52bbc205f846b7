package org.stasis.framework.launch;

import java.io.ByteArrayInputStream;
import java.lang.reflect.Proxy;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;

import javax.xml.parsers.SAXParserFactory;

import org.xml.sax.helpers.DefaultHandler;

/**
 * The JDK's first-use work that the bundles' start would otherwise do on its critical path,
 * done once beforehand on the thread that built the framework, while the launcher initialises
 * it and installs the infrastructure on the other core: setting up the XML parser Declarative
 * Services reads each component's descriptor with (its classes' static state, the JAXP limits,
 * the MIME table its bundle URLs consult) and the dynamic proxy generator (JNA's libraries are
 * proxies). Only JDK classes, loaded by the JDK's own loaders: nothing of it depends on a
 * bundle. Any failure here only leaves that work to the start.
 */
final class JdkWarmUp implements Runnable {
    private static final byte[] DESCRIPTOR = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a xmlns=\"urn:x\"><b/></a>"
            .getBytes(StandardCharsets.UTF_8);

    @Override
    public void run() {
        try {
            SAXParserFactory factory = SAXParserFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.newSAXParser().parse(new ByteArrayInputStream(DESCRIPTOR), new DefaultHandler());
            URLConnection.getFileNameMap().getContentTypeFor("OSGI-INF/a.xml");
            Proxy.newProxyInstance(JdkWarmUp.class.getClassLoader(), new Class<?>[] {Runnable.class},
                    (proxy, method, args) -> null);
        } catch (Exception | LinkageError e) {
            // only slower: the start does it itself
        }
    }
}
