// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lab's workloads, built into `weft` so the lab needs nothing else: an echo server that first says who it
/// is, and a probe client that sends a marker and checks the echo.
public enum LabTools {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Serves forever: each connection gets `name;src=<client address>|` (so a probe can check which source
    /// address the application saw), then its bytes echoed, then a FIN after the client's FIN.
    public static func echo(host: String, port: UInt16, name: String) throws -> Never {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = try makeAddress(host: host, port: port)
        guard withUnsafePointer(to: &address, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }) == 0,
            listen(fd, 128) == 0
        else { throw Failure(description: "cannot listen on \(host):\(port): \(String(cString: strerror(errno)))") }
        while true {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let conn = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &length) }
            }
            guard conn >= 0 else { continue }
            var text = [CChar](repeating: 0, count: 64)
            inet_ntop(AF_INET, &peer.sin_addr, &text, 64)
            let source = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let greeting = Array("\(name);src=\(source)|".utf8)
            Thread.detachNewThread {
                _ = greeting.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(conn, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    var sent = 0
                    while sent < n {
                        let m = buffer.withUnsafeBytes { send(conn, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                        if m <= 0 { break }
                        sent += m
                    }
                }
                shutdown(conn, Int32(SHUT_WR))
                close(conn)
            }
        }
    }

    /// The outcome of one probe.
    public struct ProbeResult: Sendable {
        public var ok: Bool
        public var answeredBy: String?
        /// The client address the application saw.
        public var sourceSeen: String?
        public var bytes: Int
        public var error: String?
    }

    /// Connects, sends `payload`, half-closes, reads everything; ok when the answer is `name|payload`.
    public static func probe(host: String, port: UInt16, payload: [UInt8], timeoutSeconds: Int = 5) -> ProbeResult {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard var address = try? makeAddress(host: host, port: port) else {
            return ProbeResult(ok: false, bytes: 0, error: "bad address \(host)")
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { return ProbeResult(ok: false, bytes: 0, error: String(cString: strerror(errno))) }
        _ = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { return ProbeResult(ok: false, bytes: received.count, error: String(cString: strerror(errno))) }
            if n == 0 { break }
            received += buffer[0..<n]
        }
        guard let bar = received.firstIndex(of: UInt8(ascii: "|")) else {
            return ProbeResult(ok: false, bytes: received.count, error: "no answer")
        }
        let greeting = String(decoding: received[..<bar], as: UTF8.self).split(separator: ";")
        let name = greeting.first.map(String.init)
        let source = greeting.dropFirst().first { $0.hasPrefix("src=") }.map { String($0.dropFirst(4)) }
        let echoed = Array(received[(bar + 1)...])
        return ProbeResult(
            ok: echoed == payload, answeredBy: name, sourceSeen: source, bytes: received.count,
            error: echoed == payload ? nil : "echo differs"
        )
    }

    static func makeAddress(host: String, port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw Failure(description: "not an IPv4 address: \(host)") }
        return address
    }
}
