package io.hoptrace.proxy.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TcpRouteTest {
  @Test
  void of_hostAndPort() {
    TcpRoute route = TcpRoute.of("cache", "127.0.0.1", 7000, "redis.local:6379", TcpProtocol.REDIS);
    assertThat(route.upstreamHost()).isEqualTo("redis.local");
    assertThat(route.upstreamPort()).isEqualTo(6379);
    assertThat(route.listenPort()).isEqualTo(7000);
  }

  @Test
  void of_bracketedIpv6() {
    TcpRoute route = TcpRoute.of("db", "::1", 0, "[::1]:3306", TcpProtocol.MYSQL);
    assertThat(route.upstreamHost()).isEqualTo("::1");
    assertThat(route.upstreamPort()).isEqualTo(3306);
  }

  @Test
  void of_listenPortOutOfRange_namesTheKey() {
    assertThatThrownBy(() -> TcpRoute.of("cache", "127.0.0.1", 70000, "h:1", TcpProtocol.TCP))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tcp-routes.cache.listen: 70000 (expected: 0..65535, 0 for an ephemeral port)");
  }

  @Test
  void of_upstreamWithoutPort_namesTheKey() {
    assertThatThrownBy(() -> TcpRoute.of("cache", "127.0.0.1", 0, "redis", TcpProtocol.TCP))
        .hasMessage(
            "tcp-routes.cache.upstream: \"redis\" (expected: host:port with port 1..65535)");
  }

  @Test
  void of_upstreamPortZero_isInvalid() {
    assertThatThrownBy(() -> TcpRoute.of("cache", "127.0.0.1", 0, "redis:0", TcpProtocol.TCP))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void of_upstreamPortNotANumber_isInvalid() {
    assertThatThrownBy(() -> TcpRoute.of("cache", "127.0.0.1", 0, "redis:63a9", TcpProtocol.TCP))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void protocol_fromSetting_caseInsensitive() {
    assertThat(TcpProtocol.fromSetting("k", "Redis")).isEqualTo(TcpProtocol.REDIS);
    assertThat(TcpProtocol.fromSetting("k", "mysql")).isEqualTo(TcpProtocol.MYSQL);
    assertThat(TcpProtocol.fromSetting("k", "tcp")).isEqualTo(TcpProtocol.TCP);
  }

  @Test
  void protocol_fromSetting_unknown_namesTheKey() {
    assertThatThrownBy(() -> TcpProtocol.fromSetting("tcp-routes.x.protocol", "http"))
        .hasMessage("tcp-routes.x.protocol: http (expected: one of redis, mysql, tcp)");
  }
}
