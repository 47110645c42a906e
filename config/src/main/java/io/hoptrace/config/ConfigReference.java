package io.hoptrace.config;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The configuration reference in Markdown ({@code docs/configuration.md}), generated from {@code
 * reference.conf}: one table per section (key, default, environment variable, meaning), the meaning
 * taken from the comment above each key, sections in the file's order. A test fails when the
 * checked-in file differs from what this generates, so the two never drift.
 *
 * <p>Regenerate from the repository root with {@link #REGENERATE} (the runnable jar holds this
 * class and Typesafe Config, so nothing else is needed).
 */
public final class ConfigReference {
  /** The command that regenerates the file, printed in it and in the test's failure message. */
  public static final String REGENERATE =
      "mvn -q -DskipTests package && java -cp proxy/target/hoptrace.jar"
          + " io.hoptrace.config.ConfigReference docs/configuration.md";

  private ConfigReference() {}

  /** Writes the reference to the file named by {@code args[0]}, or prints it when none is given. */
  public static void main(String[] args) throws IOException {
    String markdown = markdown();
    if (args.length == 0) {
      System.out.print(markdown);
    } else {
      Path out = Path.of(args[0]);
      Files.writeString(out, markdown, UTF_8);
      System.err.println("wrote " + out.toAbsolutePath());
    }
  }

  /** The reference for the {@code reference.conf} on the class path. */
  public static String markdown() {
    Config reference =
        ConfigFactory.parseResources(
            ConfigReference.class.getClassLoader(),
            "reference.conf",
            ConfigParseOptions.defaults().setAllowMissing(false));
    return markdown(reference);
  }

  /** The reference for a parsed (unresolved) {@code reference.conf}. */
  static String markdown(Config reference) {
    ConfigValue rootValue = reference.root().get(Settings.ROOT);
    if (!(rootValue instanceof ConfigObject root)) {
      throw new IllegalArgumentException("reference.conf: no " + Settings.ROOT + " { ... } block");
    }
    StringBuilder md = new StringBuilder();
    md.append("# Configuration reference\n\n");
    md.append("<!-- Generated from config/src/main/resources/reference.conf; do not edit.\n");
    md.append("     Regenerate from the repository root:\n");
    md.append("     ").append(REGENERATE).append(" -->\n\n");
    md.append("Every setting of hoptrace, its default and what it means, as ");
    md.append("[`reference.conf`](../config/src/main/resources/reference.conf) says.\n");
    md.append("Keys are given without the `").append(Settings.ROOT).append(".` root: ");
    md.append(
        "that is how `--set KEY=VALUE` and a config file's `hoptrace { ... }` block name them.\n\n");
    paragraphs(rootValue.origin().comments(), md);

    List<Map.Entry<String, ConfigValue>> top = inFileOrder(root);
    List<Map.Entry<String, ConfigValue>> general = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : top) {
      if (!isSection(e.getValue())) general.add(e);
    }
    if (!general.isEmpty()) {
      md.append("## General\n\n");
      table(general, "", md);
    }
    for (Map.Entry<String, ConfigValue> e : top) {
      if (!isSection(e.getValue())) continue;
      ConfigObject section = (ConfigObject) e.getValue();
      md.append("## `").append(e.getKey()).append("`\n\n");
      paragraphs(section.origin().comments(), md);
      if (section.isEmpty()) {
        table(List.of(e), "", md);
      } else {
        List<Map.Entry<String, ConfigValue>> rows = new ArrayList<>();
        leaves(section, "", rows);
        table(rows, e.getKey() + ".", md);
      }
    }
    return md.toString();
  }

  private static boolean isSection(ConfigValue value) {
    return value.valueType() == ConfigValueType.OBJECT;
  }

  private static List<Map.Entry<String, ConfigValue>> inFileOrder(ConfigObject object) {
    List<Map.Entry<String, ConfigValue>> entries = new ArrayList<>(object.entrySet());
    entries.sort(Comparator.comparingInt(e -> e.getValue().origin().lineNumber()));
    return entries;
  }

  /** Leaves below {@code object} in file order; nested objects' comments go to their first leaf. */
  private static void leaves(
      ConfigObject object, String prefix, List<Map.Entry<String, ConfigValue>> out) {
    for (Map.Entry<String, ConfigValue> e : inFileOrder(object)) {
      String key = prefix + e.getKey();
      if (e.getValue() instanceof ConfigObject child && !child.isEmpty()) {
        leaves(child, key + ".", out);
      } else {
        out.add(Map.entry(key, e.getValue()));
      }
    }
  }

  private static void table(
      List<Map.Entry<String, ConfigValue>> rows, String prefix, StringBuilder md) {
    md.append("| key | default | environment variable | meaning |\n");
    md.append("|---|---|---|---|\n");
    for (Map.Entry<String, ConfigValue> row : rows) {
      String key = prefix + row.getKey();
      ConfigValue value = row.getValue();
      boolean byEnvironment = value.valueType() != ConfigValueType.OBJECT;
      md.append("| `").append(key).append("` | ");
      md.append(code(defaultText(value))).append(" | ");
      md.append(byEnvironment ? "`" + Settings.envName(key) + "`" : "—").append(" | ");
      String meaning = byEnvironment ? cell(value.origin().comments()) : "None by default.";
      // A key without a comment of its own shares the one above it (admin.port, legacy-span-id).
      md.append(meaning.isEmpty() ? "See above." : meaning).append(" |\n");
    }
    md.append('\n');
  }

  /** A default as a user writes it: {@code 2s}, {@code null}, {@code ["a", "b"]}, {@code {}}. */
  static String defaultText(ConfigValue value) {
    return switch (value.valueType()) {
      case NULL -> "null";
      case STRING -> {
        String s = (String) value.unwrapped();
        yield s.isEmpty() ? "\"\"" : s;
      }
      case LIST, OBJECT -> value.render(ConfigRenderOptions.concise()).replace("\",\"", "\", \"");
      default -> String.valueOf(value.unwrapped());
    };
  }

  private static String code(String text) {
    return "`" + text.replace("|", "\\|") + "`";
  }

  /** Comment lines as one table cell. */
  private static String cell(List<String> comments) {
    StringBuilder b = new StringBuilder();
    for (String line : comments) {
      String text = line.strip();
      if (text.isEmpty()) continue;
      if (b.length() > 0) b.append(' ');
      b.append(text);
    }
    return escape(b.toString());
  }

  /**
   * Comment lines as Markdown: consecutive lines become one paragraph; lines indented by more than
   * one space (an example) become a code block.
   */
  private static void paragraphs(List<String> comments, StringBuilder md) {
    StringBuilder paragraph = new StringBuilder();
    StringBuilder code = new StringBuilder();
    for (String line : comments) {
      boolean example = line.startsWith("   ");
      if (example) {
        flush(paragraph, md);
        code.append(line.substring(3)).append('\n');
      } else {
        if (code.length() > 0) {
          md.append("```hocon\n").append(code).append("```\n\n");
          code.setLength(0);
        }
        String text = line.strip();
        if (text.isEmpty()) {
          flush(paragraph, md);
        } else {
          if (paragraph.length() > 0) paragraph.append(' ');
          paragraph.append(text);
        }
      }
    }
    if (code.length() > 0) md.append("```hocon\n").append(code).append("```\n\n");
    flush(paragraph, md);
  }

  private static void flush(StringBuilder paragraph, StringBuilder md) {
    if (paragraph.length() == 0) return;
    md.append(paragraph).append("\n\n");
    paragraph.setLength(0);
  }

  private static String escape(String text) {
    return text.replace("|", "\\|");
  }
}
