// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftCluster
import XCTest

final class XXHash64Tests: XCTestCase {
    /// Reference values computed with the C library (libxxhash 0.8.1, `XXH64`), covering the short path,
    /// the 4- and 8-byte tails and the 32-byte stripes.
    func testMatchesReferenceImplementation() {
        XCTAssertEqual(XXHash64.hash(""), 0xEF46_DB37_51D8_E999)
        XCTAssertEqual(XXHash64.hash("a"), 0xD24E_C4F1_A98C_6E5B)
        XCTAssertEqual(XXHash64.hash("abc"), 0x44BC_2CF5_AD77_0999)
        XCTAssertEqual(XXHash64.hash("user-1234567"), 0xD49C_156F_8BA0_AC5A)
        XCTAssertEqual(XXHash64.hash("10.0.0.1:8080_0"), 0x23A2_9AE7_75DF_D4A3)
        XCTAssertEqual(XXHash64.hash("10.0.0.1:8080", seed: 1), 0x0DFC_E9EF_D349_B428)
        XCTAssertEqual(XXHash64.hash("Nobody inspects the spammish repetition"), 0xFBCE_A83C_8A37_8BF1)
        XCTAssertEqual(XXHash64.hash("Nobody inspects the spammish repetition", seed: 20), 0x733F_A29B_D00D_AEEF)
        XCTAssertEqual(
            XXHash64.hash("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefXYZ"),
            0x5B15_F946_6433_95E4)
    }

    func testSubstringAndStringAgree() {
        let text = "prefix:10.0.0.1:8080"
        XCTAssertEqual(XXHash64.hash(text.dropFirst(7)), XXHash64.hash("10.0.0.1:8080"))
        XCTAssertEqual(LoadBalancer.hash("abc"), 0x44BC_2CF5_AD77_0999)
    }
}
