package io.hoptrace.propagation.w3c;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Valid lists round-trip, and truncation keeps whole members, in order, within the bound. */
class TracestatePropertiesTest {
  @Property(tries = 500)
  void validList_roundTripsWhenItFits(@ForAll("memberLists") List<String> members) {
    String value = String.join(",", members);
    String parsed = TracestateCodec.parse(value, 0, value.length(), TracestateCodec.MAX_LENGTH);

    assertThat(parsed).isEqualTo(value);
  }

  @Property(tries = 500)
  void validList_withOws_normalizesToTheMembers(@ForAll("memberLists") List<String> members) {
    String value = " \t" + String.join(" ,\t, ", members) + "\t";

    assertThat(TracestateCodec.parse(value, 0, value.length(), TracestateCodec.MAX_LENGTH))
        .isEqualTo(String.join(",", members));
  }

  @Property(tries = 500)
  void truncation_keepsWholeMembersInOrderWithinTheBound(
      @ForAll("memberLists") List<String> members,
      @ForAll @IntRange(min = 512, max = 4096) int max) {
    String value = String.join(",", members);
    String parsed = TracestateCodec.parse(value, 0, value.length(), max);

    if (value.length() <= max) {
      assertThat(parsed).isEqualTo(value);
      return;
    }
    if (parsed == null) return; // every member had to go: nothing to propagate
    assertThat(parsed.length()).isLessThanOrEqualTo(max);
    List<String> kept = Arrays.asList(parsed.split(","));
    assertThat(members).containsSubsequence(kept);
    // Short members are only dropped once no long member is left.
    boolean shortDropped = members.stream().anyMatch(m -> m.length() <= 128 && !kept.contains(m));
    if (shortDropped) assertThat(kept).allMatch(m -> m.length() <= 128);
  }

  @Provide
  Arbitrary<List<String>> memberLists() {
    Arbitrary<String> simpleKey =
        Combinators.combine(
                Arbitraries.chars().range('a', 'z'),
                Arbitraries.strings().withChars("abcxyz0189_-*/").ofMaxLength(20))
            .as((first, rest) -> first + rest);
    Arbitrary<String> tenantKey =
        Combinators.combine(
                Arbitraries.strings().withChars("abz09").ofMinLength(1).ofMaxLength(10),
                Arbitraries.chars().range('a', 'z'),
                Arbitraries.strings().withChars("az09_").ofMaxLength(13))
            .as((tenant, first, rest) -> tenant + "@" + first + rest);
    Arbitrary<String> value =
        Combinators.combine(
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(255),
                Arbitraries.strings().withCharRange('!', '~').ofLength(1))
            .as((body, last) -> (body + last).replace(',', 'c').replace('=', 'e'));
    Arbitrary<String> key = Arbitraries.oneOf(simpleKey, tenantKey);
    return Combinators.combine(key.set().ofMinSize(1).ofMaxSize(32), value.list().ofSize(32))
        .as(
            (Set<String> keys, List<String> values) -> {
              Set<String> ordered = new LinkedHashSet<>(keys);
              String[] out = new String[ordered.size()];
              int i = 0;
              for (String k : ordered) {
                out[i] = k + "=" + values.get(i);
                i++;
              }
              return List.of(out);
            });
  }
}
