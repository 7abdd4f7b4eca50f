// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftModel

@Suite("Buffered random")
struct BufferedRandomTests {
    @Test("draws across many refills are distinct and use every bit")
    func distinctAndBalanced() {
        var generator = BufferedRandom()
        var seen = Set<UInt64>()
        var ones = 0
        let draws = 10_000  // ~156 refills of the 64-word buffer
        for _ in 0..<draws {
            let word = generator.next()
            seen.insert(word)
            ones += word.nonzeroBitCount
        }
        #expect(seen.count == draws)
        // 640 000 fair bits: the mean is 320 000 with a standard deviation of 400; ±4 000 is 10 σ.
        #expect(abs(ones - draws * 32) < 4_000)
    }

    @Test("threads draw from their own buffers without repeating each other")
    func threads() async {
        let batches = await withTaskGroup(of: [UInt64].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var generator = BufferedRandom()
                    return (0..<500).map { _ in generator.next() }
                }
            }
            return await group.reduce(into: [[UInt64]]()) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(Set(all).count == all.count)
    }

    @Test("ranges drawn with it stay in bounds")
    func ranges() {
        var generator = BufferedRandom()
        for _ in 0..<1_000 {
            #expect((0..<7).contains(Int.random(in: 0..<7, using: &generator)))
        }
    }
}
