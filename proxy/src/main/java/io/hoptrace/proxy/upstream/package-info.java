/**
 * Forwarding an Undertow exchange to an upstream with Jetty's HttpClient, the same for every
 * direction: streamed bodies with backpressure, hop-by-hop headers removed, 502 on a connect
 * failure or reset, 504 on a timeout. Names follow Jetty's ProxyHandler: clientToProxyRequest,
 * proxyToServerRequest, serverToProxyResponse, proxyToClientResponse.
 */
@NullMarked
package io.hoptrace.proxy.upstream;

import org.jspecify.annotations.NullMarked;
