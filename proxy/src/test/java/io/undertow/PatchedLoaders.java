package io.undertow;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The two class loaders a differential test of a patched Undertow class runs in: both over the test
 * class path's jars with only the JDK as parent — {@code original} with Undertow's jar alone (its
 * class), {@code ours} with the proxy's classes in front (the patched copy). Checked on the way:
 * each loader finds the class where it should, and only ours carries {@code PATCHED_FOR_UNDERTOW}.
 */
public record PatchedLoaders(URLClassLoader original, URLClassLoader ours)
    implements AutoCloseable {

  public static PatchedLoaders of(Class<?> patched) throws Exception {
    URL oursDir = patched.getProtectionDomain().getCodeSource().getLocation();
    List<URL> jars = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator, -1)) {
      if (entry.endsWith(".jar")) jars.add(new File(entry).toURI().toURL());
    }
    assertThat(jars)
        .as("the test class path's jars")
        .anyMatch(u -> u.getPath().contains("undertow-core"));
    PatchedLoaders loaders = new PatchedLoaders(loader(jars, null), loader(jars, oursDir));
    String classFile = patched.getName().replace('.', '/') + ".class";
    assertThat(loaders.original.getResource(classFile).toString()).contains("undertow-core");
    assertThat(loaders.ours.getResource(classFile).toString()).startsWith(oursDir.toString());
    assertThat(loaders.ours.loadClass(patched.getName()).getDeclaredField("PATCHED_FOR_UNDERTOW"))
        .isNotNull();
    assertThat(loaders.original.loadClass(patched.getName()).getDeclaredFields())
        .noneMatch(f -> f.getName().equals("PATCHED_FOR_UNDERTOW"));
    return loaders;
  }

  private static URLClassLoader loader(List<URL> jars, @Nullable URL first)
      throws MalformedURLException {
    List<URL> urls = new ArrayList<>();
    if (first != null) urls.add(first);
    urls.addAll(jars);
    // parent: the JDK only, so nothing of Undertow comes from the test's own class path
    return new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
  }

  @Override
  public void close() throws IOException {
    original.close();
    ours.close();
  }
}
