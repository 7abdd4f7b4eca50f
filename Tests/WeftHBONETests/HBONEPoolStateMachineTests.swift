// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftHBONE

@Suite("HBONE pool state machine")
struct HBONEPoolStateMachineTests {
    typealias Machine = HBONEPoolStateMachine<String>

    @Test("a burst of 1000 streams opens ceil(1000/100) connections")
    func burst() {
        var machine = Machine(maxStreamsPerConnection: 100)
        var opened = 0
        for _ in 0..<1000 {
            if case .open = machine.acquire("a->b") { opened += 1 }
        }
        #expect(opened == 10)
        #expect(machine.connectionCount == 10)
        #expect(machine.streamCount == 1000)
    }

    @Test("keys do not share connections")
    func keys() {
        var machine = Machine(maxStreamsPerConnection: 2)
        guard case .open(let a) = machine.acquire("a"), case .open(let b) = machine.acquire("b") else {
            Issue.record("expected two new connections")
            return
        }
        #expect(a != b)
        #expect(machine.acquire("a") == .use(a))
    }

    @Test("freed slots are reused before a new connection is opened")
    func reuse() {
        var machine = Machine(maxStreamsPerConnection: 1)
        guard case .open(let first) = machine.acquire("k") else { Issue.record("expected open"); return }
        machine.streamClosed(first, now: 0)
        #expect(machine.acquire("k") == .use(first))
    }

    @Test("without reuse every stream opens its own connection, closed when the stream ends")
    func noReuse() {
        var machine = Machine(maxStreamsPerConnection: 100, reuse: false)
        guard case .open(let first) = machine.acquire("k"), case .open(let second) = machine.acquire("k") else {
            Issue.record("expected two new connections")
            return
        }
        #expect(first != second)
        let closeFirst = machine.streamClosed(first, now: 0)
        #expect(closeFirst)
        #expect(machine.connectionCount == 1)
        guard case .open(let third) = machine.acquire("k") else { Issue.record("a closed connection was reused"); return }
        #expect(third != first && third != second)
        // A pooled machine keeps an emptied connection for reuse.
        var pooled = Machine(maxStreamsPerConnection: 100)
        guard case .open(let kept) = pooled.acquire("k") else { Issue.record("expected open"); return }
        let closeKept = pooled.streamClosed(kept, now: 0)
        #expect(!closeKept)
        #expect(pooled.connectionCount == 1)
    }

    @Test("an unusable connection (GOAWAY, keepalive failure) takes no new streams")
    func unusable() {
        var machine = Machine(maxStreamsPerConnection: 10)
        guard case .open(let first) = machine.acquire("k") else { Issue.record("expected open"); return }
        machine.markUnusable(first)
        guard case .open(let second) = machine.acquire("k") else { Issue.record("expected a second connection"); return }
        #expect(first != second)
    }

    @Test("idle connections expire after the idle timeout, busy ones never")
    func idle() {
        var machine = Machine(maxStreamsPerConnection: 10, idleTimeout: 300)
        guard case .open(let idle) = machine.acquire("a") else { Issue.record("expected open"); return }
        guard case .open(let busy) = machine.acquire("b") else { Issue.record("expected open"); return }
        machine.streamClosed(idle, now: 100)
        #expect(machine.expireIdle(now: 399).isEmpty)
        #expect(machine.expireIdle(now: 400) == [idle])
        #expect(machine.expireIdle(now: 10_000).isEmpty)
        #expect(machine.streams(on: busy) == 1)
        #expect(machine.connectionCount == 1)
    }

    @Test("a closed connection releases its slots")
    func closed() {
        var machine = Machine(maxStreamsPerConnection: 1)
        guard case .open(let first) = machine.acquire("k") else { Issue.record("expected open"); return }
        machine.connectionClosed(first)
        #expect(machine.connectionCount == 0)
        guard case .open(let second) = machine.acquire("k") else { Issue.record("expected open"); return }
        #expect(second != first)
    }
}
