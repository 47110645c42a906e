package io.hoptrace.proxy.procfs;

import static io.hoptrace.proxy.procfs.TestAddresses.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class SocketKeyTest {
  @Test
  void of_v4AndV4MappedV6_areEqual() {
    SocketKey v4 = SocketKey.of(at("127.0.0.1", 40000), at("127.0.0.1", 15001));
    SocketKey mapped = new SocketKey(0, 0xFFFF_7F00_0001L, 40000, 0, 0xFFFF_7F00_0001L, 15001);

    assertThat(v4).isEqualTo(mapped).hasSameHashCodeAs(mapped);
    assertThat(v4.isV4()).isTrue();
    assertThat(v4).hasToString("127.0.0.1:40000->127.0.0.1:15001");
  }

  @Test
  void of_v6_isNotV4() {
    SocketKey v6 = SocketKey.of(at("::1", 1), at("::1", 2));

    assertThat(v6.isV4()).isFalse();
    assertThat(v6.localLo).isEqualTo(1);
  }

  @Test
  void of_differentPorts_areNotEqual() {
    InetSocketAddress a = at("127.0.0.1", 1);
    InetSocketAddress b = at("127.0.0.1", 2);

    assertThat(SocketKey.of(a, b)).isNotEqualTo(SocketKey.of(b, a));
  }

  @Test
  void of_unresolved_throws() {
    assertThatThrownBy(
            () -> SocketKey.of(InetSocketAddress.createUnresolved("app", 1), at("127.0.0.1", 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("appSideLocal");
  }
}
