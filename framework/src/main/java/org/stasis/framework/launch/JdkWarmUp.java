package org.stasis.framework.launch;

import java.io.ByteArrayInputStream;
import java.lang.reflect.Proxy;
import java.net.URLConnection;

import javax.xml.parsers.SAXParserFactory;

import org.xml.sax.helpers.DefaultHandler;

/**
 * Does once, on the core that is idle while the framework is built and initialised on the
 * other, the JDK's first-use work that the bundles' start would otherwise do on the start's
 * critical path: setting up the XML parser Declarative Services reads each component's
 * descriptor with (its classes' static state, the JAXP limits, the MIME table its bundle URLs
 * consult) and the dynamic proxy generator (JNA's libraries are proxies). Only JDK classes,
 * loaded by the JDK's own loaders: nothing of it depends on a bundle. Any failure here only
 * leaves that work to the start.
 */
final class JdkWarmUp implements Runnable {
    private static final byte[] DESCRIPTOR = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a xmlns=\"urn:x\"><b c=\"d\"/></a>"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);

    /** Starts it on a daemon thread of its own. */
    static void start() {
        Thread thread = new Thread(new JdkWarmUp(), "stasis-warm-up");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        thread.start();
    }

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
