// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing

@testable import WeftWaypoint

@Suite("Request records")
struct RequestRecordTests {
    @Test("x-request-id is a random version-4 UUID")
    func requestID() {
        var seen: Set<String> = []
        for _ in 0..<1000 {
            let id = Array(RequestRecord.newRequestID().utf8)
            #expect(id.count == 36)
            for (index, byte) in id.enumerated() {
                if [8, 13, 18, 23].contains(index) {
                    #expect(byte == UInt8(ascii: "-"))
                } else {
                    #expect((48...57).contains(byte) || (97...102).contains(byte))
                }
            }
            #expect(id[14] == UInt8(ascii: "4"))
            #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(id[19]))
            seen.insert(String(decoding: id, as: UTF8.self))
        }
        #expect(seen.count == 1000)
    }
}
