package io.hoptrace.proxy.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.hoptrace.config.HostPort;
import java.net.InetAddress;
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

  @Test
  void hostPort_isTheHostAndPort() {
    assertThat(new OutboundTarget("orders.svc", 8080, null).hostPort())
        .isEqualTo(new HostPort("orders.svc", 8080));
    assertThat(OutboundTarget.parseAuthority("[::1]:443", 0).hostPort())
        .isEqualTo(new HostPort("::1", 443));
  }

  @Test
  void literalAddresses_areWhatGetAllByNameGives_forLiteralsOnly() throws Exception {
    OutboundTarget v4 = OutboundTarget.parseAuthority("127.0.0.1:8080", 0);
    assertThat(v4.addressLiteral()).isTrue();
    assertThat(v4.literalAddresses()).containsExactly(InetAddress.getAllByName("127.0.0.1"));
    OutboundTarget v6 = OutboundTarget.parseAuthority("[::1]:8080", 0);
    assertThat(v6.literalAddresses()).containsExactly(InetAddress.getAllByName("::1"));
    OutboundTarget name = OutboundTarget.parseAuthority("localhost:8080", 0);
    assertThat(name.addressLiteral()).isFalse();
    assertThat(name.literalAddresses()).isNull(); // resolved when used, never kept
    // a literal getAllByName rejects (no lookup for it either): no address
    OutboundTarget bad = OutboundTarget.parseAuthority("[1:2:3:4:5:6:7:8:9]:80", 0);
    assertThat(bad.addressLiteral()).isTrue();
    assertThat(bad.literalAddresses()).isEmpty();
    // text with a colon that getAllByName would look up as a name is left to the resolver
    assertThat(OutboundTarget.parseAuthority("[zz:zz]:80", 0).literalAddresses()).isNull();
  }

  @Test
  void addressText_ofTheLiteralsAddress_andOfAnyOther() throws Exception {
    OutboundTarget v6 = OutboundTarget.parseAuthority("[::1]:8080", 0);
    InetAddress first = v6.literalAddresses().get(0);
    assertThat(v6.addressText(first))
        .isEqualTo(first.getHostAddress())
        .isEqualTo("0:0:0:0:0:0:0:1");
    InetAddress other = InetAddress.getByName("127.0.0.2");
    assertThat(v6.addressText(other)).isEqualTo("127.0.0.2");
    assertThat(new OutboundTarget("orders.svc", 80, null).addressText(other))
        .isEqualTo("127.0.0.2");
  }
}
