package io.hoptrace.proxy.export;

/**
 * Every {@link ZipkinThreeServiceExportTest} case again with {@code outbound.engine = undertow}:
 * the Undertow path, which the outbound byte relay (the default) hands what it does not carry,
 * stays a supported choice.
 */
class ZipkinThreeServiceExportUndertowTest extends ZipkinThreeServiceExportTest {
  ZipkinThreeServiceExportUndertowTest() {
    outboundEngine = "undertow";
  }
}
