// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOCore
import NIOPosix
import Testing
import WeftTLS

/// Nonisolated async work, as swift-certificates' verifier is: without an executor preference it runs on the
/// global concurrent pool.
private func whereAmI(_ loop: any EventLoop) async -> Bool {
    await Task.yield()
    return loop.inEventLoop
}

@Suite("Event loop task executor")
struct EventLoopTaskExecutorTests {
    @Test("a task preferring the executor runs its nonisolated async calls on the event loop, across suspensions")
    func staysOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let observed = await Task(executorPreference: executor) {
            var seen: [Bool] = [loop.inEventLoop]
            for _ in 0..<3 { seen.append(await whereAmI(loop)) }
            return seen
        }.value
        #expect(observed == [true, true, true, true])
        // The control: the same calls without the preference do not run on the loop.
        let control = await Task { await whereAmI(loop) }.value
        #expect(control == false)
        try await group.shutdownGracefully()
    }

    @Test("a promise completed from such a task completes on its own loop, with no hop")
    func promiseCompletesOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let promise = loop.makePromise(of: Bool.self)
        Task(executorPreference: EventLoopTaskExecutor(loop)) {
            promise.succeed(await whereAmI(loop))
        }
        #expect(try await promise.futureResult.get())
        try await group.shutdownGracefully()
    }
}
