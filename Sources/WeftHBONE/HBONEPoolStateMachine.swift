// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Bookkeeping of the HBONE client pool, with no I/O: which connection a new stream goes on, when a new
/// connection is needed, and which connections have been idle too long.
///
/// ## Overview
/// A key (source identity, destination identity, next hop, event loop) owns 1…n connections. A stream
/// *reserves* a slot on a connection that is connecting or ready and has fewer than `maxStreamsPerConnection`
/// streams; if none has room, a new connection is opened with the stream's reservation already on it, so a burst
/// of N streams opens ⌈N / max⌉ connections, not N. A connection that failed, closed or received GOAWAY takes no
/// new streams. A connection with no streams since `idleTimeout` is reported by ``expireIdle(now:)``.
///
/// ## Implementation
/// Plain dictionaries; time is passed in (seconds, any monotonic origin) so tests drive it.
public struct HBONEPoolStateMachine<Key: Hashable & Sendable>: Sendable {
    public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
        public let raw: Int
        public var description: String { "hbone-\(raw)" }
    }

    public enum AcquireAction: Hashable, Sendable {
        /// Put the stream on this connection (it may still be connecting).
        case use(ConnectionID)
        /// Open this new connection and put the stream on it.
        case open(ConnectionID)
    }

    struct Connection: Sendable {
        var key: Key
        var streams: Int
        var usable: Bool
        var idleSince: Double?
    }

    public let maxStreamsPerConnection: Int
    public let idleTimeout: Double
    private var connections: [ConnectionID: Connection] = [:]
    private var byKey: [Key: [ConnectionID]] = [:]
    private var nextID = 0

    /// `false`: every stream gets a connection of its own, closed when the stream ends (no pooling; the cold
    /// TLS path, for benchmarks and for peers that mishandle multiplexing).
    public let reuse: Bool

    public init(maxStreamsPerConnection: Int = 100, idleTimeout: Double = 300, reuse: Bool = true) {
        precondition(maxStreamsPerConnection > 0)
        self.maxStreamsPerConnection = maxStreamsPerConnection
        self.idleTimeout = idleTimeout
        self.reuse = reuse
    }

    /// Reserves a stream slot for `key`.
    public mutating func acquire(_ key: Key) -> AcquireAction {
        // The fullest connection with room: keeps the number of live connections low, so idle ones can expire.
        let candidates = (byKey[key] ?? []).compactMap { id -> (ConnectionID, Int)? in
            guard let c = connections[id], c.usable, c.streams < maxStreamsPerConnection else { return nil }
            return (id, c.streams)
        }
        if let (id, _) = candidates.max(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.raw > $1.0.raw) }) {
            connections[id]!.streams += 1
            connections[id]!.idleSince = nil
            return .use(id)
        }
        let id = ConnectionID(raw: nextID)
        nextID += 1
        connections[id] = Connection(key: key, streams: 1, usable: reuse, idleSince: nil)
        byKey[key, default: []].append(id)
        return .open(id)
    }

    /// A stream reserved by ``acquire(_:)`` ended (or could not be opened). Returns `true` when the connection
    /// must now be closed by the caller (it is single-use and has no stream left); it is then out of the pool.
    @discardableResult
    public mutating func streamClosed(_ id: ConnectionID, now: Double) -> Bool {
        guard var c = connections[id] else { return false }
        c.streams = max(0, c.streams - 1)
        if c.streams == 0 {
            if !reuse {
                connectionClosed(id)
                return true
            }
            c.idleSince = now
        }
        connections[id] = c
        return false
    }

    /// The connection must take no more streams (GOAWAY received, keepalive failed).
    public mutating func markUnusable(_ id: ConnectionID) {
        connections[id]?.usable = false
    }

    /// The connection is gone (failed to connect, or closed). Its slots are released.
    public mutating func connectionClosed(_ id: ConnectionID) {
        guard let c = connections.removeValue(forKey: id) else { return }
        byKey[c.key]?.removeAll { $0 == id }
        if byKey[c.key]?.isEmpty == true { byKey[c.key] = nil }
    }

    /// Connections with no stream for longer than the idle timeout; they are removed from the pool and must be
    /// closed by the caller.
    public mutating func expireIdle(now: Double) -> [ConnectionID] {
        let expired = connections.filter { _, c in
            guard let since = c.idleSince, c.streams == 0 else { return false }
            return now - since >= idleTimeout
        }.map(\.key).sorted { $0.raw < $1.raw }
        for id in expired { connectionClosed(id) }
        return expired
    }

    /// Live connections and reserved streams, for metrics and tests.
    public var connectionCount: Int { connections.count }
    public var streamCount: Int { connections.values.reduce(0) { $0 + $1.streams } }
    public func streams(on id: ConnectionID) -> Int? { connections[id]?.streams }
}
