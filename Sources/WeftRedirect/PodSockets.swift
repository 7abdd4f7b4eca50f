// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import CWeftLinux
#if canImport(Glibc)
import Glibc
#endif

/// Socket creation inside a pod's network namespace. Each function must run on the namespace's thread
/// (``NetworkNamespace/run(_:)``); the returned descriptors keep the pod's namespace wherever they are used.
public enum PodSockets {
    /// A system call failed.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var operation: String
        public var errno: Int32
        public var description: String { "\(operation): \(String(cString: strerror(errno)))" }

        public init(operation: String, errno: Int32) {
            self.operation = operation
            self.errno = errno
        }
    }

    /// A listening TCP socket on `0.0.0.0:port` with SO_REUSEADDR and SO_REUSEPORT, so a restarted (or upgraded)
    /// daemon can bind next to a draining one.
    public static func listener(port: UInt16, backlog: Int32 = 1024) throws(Error) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Error(operation: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let e = errno
            close(fd)
            throw Error(operation: "bind 0.0.0.0:\(port)", errno: e)
        }
        guard listen(fd, backlog) == 0 else {
            let e = errno
            close(fd)
            throw Error(operation: "listen :\(port)", errno: e)
        }
        return fd
    }

    /// A non-blocking TCP socket carrying `mark`, so the pod's rules let the node's own traffic pass; with
    /// `transparentSource`, bound to that (foreign) IPv4 address with IP_TRANSPARENT so the peer sees it as source.
    public static func markedSocket(ipv6: Bool, mark: UInt32, transparentSource: UInt32? = nil) throws(Error) -> Int32 {
        let family = ipv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Error(operation: "socket", errno: errno) }
        let rc = weft_set_mark(fd, mark)
        guard rc == 0 else {
            close(fd)
            throw Error(operation: "setsockopt SO_MARK", errno: -rc)
        }
        if let source = transparentSource, !ipv6 {
            let t = weft_set_transparent(fd, 0)
            guard t == 0 else {
                close(fd)
                throw Error(operation: "setsockopt IP_TRANSPARENT", errno: -t)
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr = in_addr(s_addr: source.bigEndian)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let e = errno
                close(fd)
                throw Error(operation: "bind transparent source", errno: e)
            }
        }
        return fd
    }

    /// Whether `ipv4` (host order) is an address of the calling thread's namespace (a bind test).
    public static func hasLocalAddress(ipv4: UInt32) throws(Error) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Error(operation: "socket", errno: errno) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: ipv4.bigEndian)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return true }
        if errno == EADDRNOTAVAIL { return false }
        throw Error(operation: "bind test", errno: errno)
    }
}
