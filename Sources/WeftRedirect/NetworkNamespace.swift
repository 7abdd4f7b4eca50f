// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import CWeftLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pod's network namespace, entered on a dedicated thread.
///
/// `setns` changes only the calling thread, so every operation that must happen inside the pod (creating and
/// binding sockets, applying nftables) runs on a thread that entered the namespace once and never leaves it.
/// A socket keeps the namespace it was created in, so listeners and upstream sockets made here can then be
/// handed to SwiftNIO's event loops in the node's own namespace.
public final class NetworkNamespace: @unchecked Sendable {
    // Invariant: `jobs` is only touched under `lock`; the worker thread is the only consumer.
    public let path: String
    private let lock = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopped = false
    private var thread: Thread?

    /// The error of entering a namespace, for the operator.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32
        public var description: String {
            "cannot enter network namespace \(path): \(String(cString: strerror(errno)))"
                + (errno == ENOENT ? " (does it exist? `ip netns list` shows named namespaces under /var/run/netns)" : "")
        }
    }

    /// Resolves a netns annotation: a name under `/var/run/netns`, or an absolute path.
    public static func resolve(_ nameOrPath: String) -> String {
        nameOrPath.hasPrefix("/") ? nameOrPath : "/var/run/netns/\(nameOrPath)"
    }

    /// Enters the namespace on a new thread; fails if the namespace cannot be entered.
    public init(path: String) throws {
        self.path = path
        let ready = DispatchSemaphore(value: 0)
        let result = SetnsResult()
        let thread = Thread { [unowned self] in
            result.code = weft_setns_path(path)
            ready.signal()
            guard result.code == 0 else { return }
            self.loop()
        }
        thread.name = "weft-netns"
        thread.start()
        ready.wait()
        guard result.code == 0 else { throw Error(path: path, errno: -result.code) }
        self.thread = thread
    }

    private func loop() {
        while true {
            lock.lock()
            while jobs.isEmpty && !stopped { lock.wait() }
            if jobs.isEmpty && stopped {
                lock.unlock()
                return
            }
            let job = jobs.removeFirst()
            lock.unlock()
            job()
        }
    }

    /// Runs `body` inside the namespace and returns its result.
    @discardableResult
    public func run<T>(_ body: @escaping () throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, any Swift.Error>?
        lock.lock()
        jobs.append {
            result = Result { try body() }
            done.signal()
        }
        lock.signal()
        lock.unlock()
        done.wait()
        return try result!.get()
    }

    /// Stops the thread (the namespace itself is not touched).
    public func close() {
        lock.lock()
        stopped = true
        lock.signal()
        lock.unlock()
    }

    deinit { close() }
}

/// The outcome of `setns` on the worker thread. Written once before `ready.signal()`, read after `ready.wait()`.
private final class SetnsResult: @unchecked Sendable {
    var code: Int32 = 0
}
