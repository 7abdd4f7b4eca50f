// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOHTTP2
import WeftTLS

/// Tunables of the HBONE client and server, with ztunnel's defaults and the reasons for them.
public struct HBONEConfiguration: Sendable {
    /// Whether streams share connections. `false`: one TLS connection per tunnelled connection (the cold path).
    public var pooling = true
    /// TLS 1.3 key exchange offered and accepted (`--tls-key-exchange`).
    public var keyExchange: MeshTLS.KeyExchange = .hybrid
    /// Streams per pooled connection before another connection is opened (ztunnel: 100).
    public var maxStreamsPerConnection: Int = 100
    /// Streams a server accepts per connection (ztunnel advertises 200; above the client cap so a client never
    /// waits on the server's limit).
    public var serverMaxConcurrentStreams: Int = 200
    /// A pooled connection with no stream for this long is closed (ztunnel: 5 minutes).
    public var idleTimeout: TimeAmount = .minutes(5)
    /// HTTP/2 PING interval and the time to wait for its ACK before the connection is dropped (ztunnel: 10 s / 20 s).
    public var keepaliveInterval: TimeAmount = .seconds(10)
    public var keepaliveTimeout: TimeAmount = .seconds(20)
    /// Per-stream receive window: 4 MiB lets one stream fill a fast link without waiting for WINDOW_UPDATEs.
    public var streamWindow: Int = 4 << 20
    /// Connection receive window: larger than the stream window; equal values can deadlock when one stream uses
    /// the whole connection window.
    public var connectionWindow: Int = 16 << 20
    /// Largest DATA frame we accept (1 MiB): fewer frame headers and callbacks per byte.
    public var maxFrameSize: Int = 1 << 20
    /// How long to wait for TLS + the HTTP/2 preface when opening a connection.
    public var connectTimeout: TimeAmount = .seconds(10)
    /// Outbound buffer per stream before the stream stops being writable (back-pressure to the source socket).
    public var streamSendBufferHigh: Int = 1 << 20
    public var streamSendBufferLow: Int = 256 << 10

    public init() {}

    func connectionConfiguration(server: Bool) -> NIOHTTP2Handler.ConnectionConfiguration {
        var config = NIOHTTP2Handler.ConnectionConfiguration()
        var settings: HTTP2Settings = [
            HTTP2Setting(parameter: .initialWindowSize, value: streamWindow),
            HTTP2Setting(parameter: .maxFrameSize, value: maxFrameSize),
            HTTP2Setting(parameter: .maxHeaderListSize, value: server ? 64 << 10 : 16 << 10),
            HTTP2Setting(parameter: .enablePush, value: 0),
        ]
        if server {
            settings.append(HTTP2Setting(parameter: .maxConcurrentStreams, value: serverMaxConcurrentStreams))
        }
        config.initialSettings = settings
        config.targetWindowSize = connectionWindow
        return config
    }

    var streamConfiguration: NIOHTTP2Handler.StreamConfiguration {
        var config = NIOHTTP2Handler.StreamConfiguration()
        config.targetWindowSize = streamWindow
        config.outboundBufferSizeHighWatermark = streamSendBufferHigh
        config.outboundBufferSizeLowWatermark = streamSendBufferLow
        return config
    }
}
