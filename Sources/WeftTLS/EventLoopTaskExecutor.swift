// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// `Task(executorPreference:)` with it keeps the task's nonisolated async code — the certificate verification
/// swift-certificates exposes only as `async` — on the connection's own event loop thread. Without it every TLS
/// handshake hopped to the global concurrent pool and back (a thread wake-up each way, and on a loaded two-core
/// machine up to a scheduler tick of latency per handshake).
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
