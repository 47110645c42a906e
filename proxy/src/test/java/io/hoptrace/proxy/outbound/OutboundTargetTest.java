package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OutboundTargetTest {
  @Test
  void parseAuthority_hostAndPort() {
    assertThat(OutboundTarget.parseAuthority("orders.svc:8080", 80))
        .isEqualTo(new OutboundTarget("orders.svc", 8080, null));
  }

  @Test
  void parseAuthority_noPort_takesDefault() {
    assertThat(OutboundTarget.parseAuthority("orders.svc", 80).port()).isEqualTo(80);
  }

  @Test
  void parseAuthority_noPortAndNoDefault_isNull() {
    assertThat(OutboundTarget.parseAuthority("orders.svc", 0)).isNull();
  }

  @Test
  void parseAuthority_bracketedIpv6() {
    OutboundTarget t = OutboundTarget.parseAuthority("[::1]:443", 0);
    assertThat(t.host()).isEqualTo("::1");
    assertThat(t.authority()).isEqualTo("[::1]:443");
  }

  @Test
  void parseAuthority_bareIpv6_isNull() {
    assertThat(OutboundTarget.parseAuthority("::1:443", 0)).isNull();
  }

  @Test
  void parseAuthority_portOutOfRange_isNull() {
    assertThat(OutboundTarget.parseAuthority("a:65536", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("a:0", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("a:-1", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("a:", 0)).isNull();
  }

  @Test
  void parseAuthority_junkInHost_isNull() {
    assertThat(OutboundTarget.parseAuthority("a b:80", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("a/b:80", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("user@a:80", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority(":80", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("[]:80", 0)).isNull();
    assertThat(OutboundTarget.parseAuthority("[::1]x", 0)).isNull();
  }

  @Test
  void constructor_badPort_throws() {
    assertThatThrownBy(() -> new OutboundTarget("a", 0, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port: 0 (expected: 1..65535)");
  }
}
