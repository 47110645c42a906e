package io.hoptrace.propagation.requestid;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class RequestIdCodecTest {
  static final int MAX = RequestIdCodec.DEFAULT_MAX_LENGTH;

  @Test
  void parse_opaqueToken_isValid() {
    String id = "req-42_abc.DEF:1";

    assertThat(RequestIdCodec.parse(id, MAX)).isSameAs(id);
  }

  @Test
  void parse_ows_isTrimmed() {
    assertThat(RequestIdCodec.parse("  abc\t", MAX)).isEqualTo("abc");
  }

  @Test
  void parse_null_isNull() {
    assertThat(RequestIdCodec.parse(null, MAX)).isNull();
  }

  @Test
  void parse_empty_isInvalid() {
    assertThat(RequestIdCodec.parse("", MAX)).isNull();
    assertThat(RequestIdCodec.parse("  ", MAX)).isNull();
  }

  @Test
  void parse_tooLong_isInvalid() {
    assertThat(RequestIdCodec.parse("a".repeat(MAX), MAX)).isNotNull();
    assertThat(RequestIdCodec.parse("a".repeat(MAX + 1), MAX)).isNull();
  }

  @Test
  void parse_configuredMaxLength_isHonoured() {
    assertThat(RequestIdCodec.parse("a".repeat(200), 256)).isNotNull();
  }

  @Test
  void parse_innerSpace_isInvalid() {
    assertThat(RequestIdCodec.parse("a b", MAX)).isNull();
  }

  @Test
  void parse_comma_isInvalid() {
    assertThat(RequestIdCodec.parse("a,b", MAX)).isNull();
  }

  @Test
  void parse_doubleQuote_isInvalid() {
    assertThat(RequestIdCodec.parse("a\"b", MAX)).isNull();
  }

  @Test
  void parse_backslash_isInvalid() {
    assertThat(RequestIdCodec.parse("a\\b", MAX)).isNull();
  }

  @Test
  void parse_crlf_isInvalid() {
    assertThat(RequestIdCodec.parse("a\r\nX-Evil: 1", MAX)).isNull();
  }

  @Test
  void parse_controlChar_isInvalid() {
    assertThat(RequestIdCodec.parse("a\u0000b", MAX)).isNull();
    assertThat(RequestIdCodec.parse("a\u007fb", MAX)).isNull();
  }

  @Test
  void parse_nonAscii_isInvalid() {
    assertThat(RequestIdCodec.parse("caf\u00e9", MAX)).isNull();
  }

  @Test
  void isUuid_anyCase_isAccepted() {
    assertThat(RequestIdCodec.isUuid("0AF76519-16CD-43DD-8448-EB211C80319C")).isTrue();
    assertThat(RequestIdCodec.isUuid("0af76519-16cd-43dd-8448-eb211c80319c")).isTrue();
  }

  @Test
  void isUuid_wrongShape_isRejected() {
    assertThat(RequestIdCodec.isUuid("0af7651916cd43dd8448eb211c80319c")).isFalse();
    assertThat(RequestIdCodec.isUuid("0af76519-16cd-43dd-8448-eb211c80319")).isFalse();
    assertThat(RequestIdCodec.isUuid("0af76519-16cd-43dd-8448_eb211c80319c")).isFalse();
    assertThat(RequestIdCodec.isUuid("0af76519-16cd-43dd-8448-eb211c80319g")).isFalse();
  }

  @Test
  void uuidToTraceId_readsHighAndLow() {
    String uuid = "0AF76519-16CD-43DD-8448-EB211C80319C";

    assertThat(RequestIdCodec.isUuidTraceId(uuid)).isTrue();
    assertThat(RequestIdCodec.uuidToTraceIdHigh(uuid)).isEqualTo(0x0af7651916cd43ddL);
    assertThat(RequestIdCodec.uuidToTraceIdLow(uuid)).isEqualTo(0x8448eb211c80319cL);
  }

  @Test
  void uuidToTraceId_allZero_isRejected() {
    assertThat(RequestIdCodec.isUuidTraceId("00000000-0000-0000-0000-000000000000")).isFalse();
  }

  @Test
  void newRequestId_isAVersion4Uuid() {
    String id = RequestIdCodec.newRequestId();
    UUID uuid = UUID.fromString(id);

    assertThat(id).hasSize(36).isLowerCase();
    assertThat(uuid.version()).isEqualTo(4);
    assertThat(uuid.variant()).isEqualTo(2);
    assertThat(RequestIdCodec.parse(id, MAX)).isEqualTo(id);
    assertThat(RequestIdCodec.newRequestId()).isNotEqualTo(id);
  }

  @Test
  void toUuid_matchesJavaUtilUuid() {
    UUID uuid = UUID.randomUUID();

    assertThat(RequestIdCodec.toUuid(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits()))
        .isEqualTo(uuid.toString());
  }
}
