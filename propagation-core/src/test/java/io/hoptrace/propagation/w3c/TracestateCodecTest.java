package io.hoptrace.propagation.w3c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** W3C Trace Context §3.3 and the W3C test suite (test/test.py), one malformed input per test. */
class TracestateCodecTest {
  static String members(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> String.format("bar%02d=%02d", i, i))
        .collect(Collectors.joining(","));
  }

  static String parse(String value, int maxLength) {
    return TracestateCodec.parse(value, 0, value.length(), maxLength);
  }

  @Test
  void parse_specExample_isReturnedAsIs() {
    String value = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";

    assertThat(TracestateCodec.parse(value)).isSameAs(value);
  }

  @Test
  void parse_singleMember_isValid() {
    assertThat(TracestateCodec.parse("foo=1")).isEqualTo("foo=1");
  }

  @Test
  void parse_thirtyTwoMembers_isValid() {
    String value = members(32);

    assertThat(TracestateCodec.parse(value)).isEqualTo(value);
  }

  @Test
  void parse_tooManyMembers_isInvalid() {
    assertThat(TracestateCodec.parse(members(33))).isNull();
  }

  @Test
  void parse_thirtyTwoMembersWithEmptyOnes_isValid() {
    assertThat(TracestateCodec.parse(",," + members(32) + ",,")).isEqualTo(members(32));
  }

  @Test
  void parse_owsAroundMembers_isNormalized() {
    assertThat(TracestateCodec.parse("foo=1 \t , \t bar=2, \t baz=3"))
        .isEqualTo("foo=1,bar=2,baz=3");
  }

  @Test
  void parse_emptyMembers_areDropped() {
    assertThat(TracestateCodec.parse("foo=1,,bar=2,")).isEqualTo("foo=1,bar=2");
    assertThat(TracestateCodec.parse(",foo=1")).isEqualTo("foo=1");
  }

  @Test
  void parse_empty_hasNothingToPropagate() {
    assertThat(TracestateCodec.parse("")).isNull();
    assertThat(TracestateCodec.isValid("", 0, 0)).isTrue();
  }

  @Test
  void parse_onlyCommasAndOws_hasNothingToPropagate() {
    assertThat(TracestateCodec.parse(" , ,")).isNull();
    assertThat(TracestateCodec.isValid(" , ,", 0, 4)).isTrue();
  }

  @Test
  void parse_valueWithInnerSpace_isValid() {
    assertThat(TracestateCodec.parse("foo=a b")).isEqualTo("foo=a b");
  }

  @Test
  void parse_valueWithTrailingSpace_isTrimmedAsOws() {
    assertThat(TracestateCodec.parse("foo=ab  ,bar=1")).isEqualTo("foo=ab,bar=1");
  }

  @Test
  void parse_valueWithLeadingSpace_isValid() {
    // value = 0*255(chr) nblk-chr, and chr includes space.
    assertThat(TracestateCodec.parse("foo= ab")).isEqualTo("foo= ab");
  }

  @Test
  void parse_valueOnlySpaces_isInvalid() {
    assertThat(TracestateCodec.parse("foo=   ")).isNull();
  }

  @Test
  void parse_emptyValue_isInvalid() {
    assertThat(TracestateCodec.parse("foo=,bar=3")).isNull();
  }

  @Test
  void parse_valueWithEquals_isInvalid() {
    assertThat(TracestateCodec.parse("foo=bar=baz")).isNull();
  }

  @Test
  void parse_valueWithControlChar_isInvalid() {
    assertThat(TracestateCodec.parse("foo=b\u0001r")).isNull();
  }

  @Test
  void parse_valueWithTabInside_isInvalid() {
    assertThat(TracestateCodec.parse("foo=a\tb")).isNull();
  }

  @Test
  void parse_valueWithNonAscii_isInvalid() {
    assertThat(TracestateCodec.parse("foo=caf\u00e9")).isNull();
  }

  @Test
  void parse_valueWithDel_isInvalid() {
    assertThat(TracestateCodec.parse("foo=a\u007f")).isNull();
  }

  @Test
  void parse_value256Chars_isValid() {
    assertThat(TracestateCodec.parse("foo=" + "v".repeat(256), 0, 260, 1024)).isNotNull();
  }

  @Test
  void parse_valueTooLong_isInvalid() {
    String value = "foo=" + "v".repeat(257);

    assertThat(parse(value, 1024)).isNull();
  }

  @Test
  void parse_missingEquals_isInvalid() {
    assertThat(TracestateCodec.parse("foo")).isNull();
    assertThat(TracestateCodec.parse("foo=1,bar")).isNull();
  }

  @Test
  void parse_badKeyUppercase_isInvalid() {
    assertThat(TracestateCodec.parse("Foo=1")).isNull();
  }

  @Test
  void parse_badKeyIllegalChar_isInvalid() {
    assertThat(TracestateCodec.parse("foo.bar=1")).isNull();
    assertThat(TracestateCodec.parse("foo =1")).isNull();
    assertThat(TracestateCodec.parse("foo=1,bar @=2")).isNull();
  }

  @Test
  void parse_badKeyEmpty_isInvalid() {
    assertThat(TracestateCodec.parse("=1")).isNull();
  }

  @Test
  void parse_badKeySimpleStartingWithDigit_isInvalid() {
    assertThat(TracestateCodec.parse("1foo=1")).isNull();
  }

  @Test
  void parse_keyWithAllowedPunctuation_isValid() {
    assertThat(TracestateCodec.parse("a_b-c*d/e=1")).isEqualTo("a_b-c*d/e=1");
  }

  @Test
  void parse_simpleKey256Chars_isValid() {
    String value = "k".repeat(256) + "=1";

    assertThat(parse(value, 1024)).isEqualTo(value);
  }

  @Test
  void parse_simpleKeyTooLong_isInvalid() {
    assertThat(parse("k".repeat(257) + "=1", 1024)).isNull();
  }

  @Test
  void parse_multiTenantKey_isValid() {
    assertThat(TracestateCodec.parse("1tenant@sys=1")).isEqualTo("1tenant@sys=1");
  }

  @Test
  void parse_multiTenantKeyAtLimits_isValid() {
    String value = "t".repeat(241) + "@" + "s".repeat(14) + "=1";

    assertThat(parse(value, 1024)).isEqualTo(value);
  }

  @Test
  void parse_tenantTooLong_isInvalid() {
    assertThat(parse("t".repeat(242) + "@" + "s".repeat(14) + "=1", 1024)).isNull();
  }

  @Test
  void parse_systemTooLong_isInvalid() {
    assertThat(parse("t".repeat(241) + "@" + "s".repeat(15) + "=1", 1024)).isNull();
  }

  @Test
  void parse_emptySystem_isInvalid() {
    assertThat(TracestateCodec.parse("foo@=1,bar=2")).isNull();
  }

  @Test
  void parse_emptyTenant_isInvalid() {
    assertThat(TracestateCodec.parse("@foo=1,bar=2")).isNull();
  }

  @Test
  void parse_twoAtSigns_isInvalid() {
    assertThat(TracestateCodec.parse("foo@@bar=1,bar=2")).isNull();
    assertThat(TracestateCodec.parse("foo@bar@baz=1,bar=2")).isNull();
  }

  @Test
  void parse_systemStartingWithDigit_isInvalid() {
    assertThat(TracestateCodec.parse("foo@1bar=1")).isNull();
  }

  @Test
  void parse_duplicateKeys_isInvalid() {
    assertThat(TracestateCodec.parse("foo=1,foo=1")).isNull();
    assertThat(TracestateCodec.parse("foo=1,bar=2,foo=3")).isNull();
  }

  @Test
  void parse_duplicateMultiTenantKeys_isInvalid() {
    assertThat(TracestateCodec.parse("t@sys=1, t@sys=2")).isNull();
  }

  @Test
  void parse_keysThatArePrefixesOfEachOther_areNotDuplicates() {
    assertThat(TracestateCodec.parse("foo=1,fo=2,fooo=3")).isEqualTo("foo=1,fo=2,fooo=3");
  }

  @Test
  void parse_manyKeysWithBloomCollisions_areNotDuplicates() {
    // 32 distinct keys over a 64-bit filter: collisions are certain to be checked in place.
    String value = members(32);

    assertThat(TracestateCodec.parse(value)).isEqualTo(value);
  }

  @Test
  void parse_longerThanMaxLength_isInvalidWithoutReading() {
    String value = "foo=" + "a".repeat(TracestateCodec.MAX_LENGTH);

    assertThat(TracestateCodec.isValid(value, 0, value.length())).isFalse();
  }

  @Test
  void parse_maxLengthBelow512_throws() {
    assertThatThrownBy(() -> TracestateCodec.parse("foo=1", 0, 5, 511))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("512");
  }

  @Test
  void parse_truncation_dropsLongMembersFirst() {
    String longMember = "long=" + "x".repeat(200); // 205 chars
    String value = "a=" + "1".repeat(250) + "," + longMember + ",b=" + "2".repeat(100);

    // 252 + 1 + 205 + 1 + 102 = 561 > 512: drop the >128 member, keep the rest.
    assertThat(parse(value, 512)).isEqualTo("a=" + "1".repeat(250) + ",b=" + "2".repeat(100));
  }

  @Test
  void parse_truncation_dropsFromTheEndWhenNoLongMembers() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      if (i > 0) b.append(',');
      b.append("k").append(i).append('=').append("v".repeat(97)); // 100 chars each
    }
    // 6 * 100 + 5 = 605 > 512; 5 * 100 + 4 = 504 fits.
    String truncated = parse(b.toString(), 512);

    assertThat(truncated).hasSize(504).startsWith("k0=").doesNotContain("k5=");
  }

  @Test
  void parse_truncation_dropsLongMembersFromTheEndFirst() {
    String long1 = "la=" + "x".repeat(250);
    String long2 = "lb=" + "y".repeat(200);
    String shortMember = "c=" + "3".repeat(98);
    String value = long1 + "," + long2 + "," + shortMember;

    // 253 + 1 + 203 + 1 + 100 = 558: dropping lb alone (the last long one) is enough.
    assertThat(parse(value, 512)).isEqualTo(long1 + "," + shortMember);
  }

  @Test
  void parse_truncation_respectsConfiguredMaxLength() {
    String value = members(32); // 32 * 8 + 31 = 287

    assertThat(parse(value, 512)).isEqualTo(value);
    String big = "a=" + "1".repeat(250) + ",b=" + "2".repeat(250) + ",c=" + "3".repeat(250);

    assertThat(parse(big, 512)).isEqualTo("a=" + "1".repeat(250) + ",b=" + "2".repeat(250));
    assertThat(parse(big, 1024)).isEqualTo(big);
  }
}
