// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import Testing
@testable import WeftTelemetry

@Suite("Run-time log levels")
struct RuntimeLogLevelsTests {
    @Test("levels change per scope and the access log can be switched off")
    func changes() throws {
        let levels = RuntimeLogLevels(default: .info)
        #expect(levels.description == "default=info access=info")
        try levels.apply("debug")
        #expect(levels.level(for: "weft.node") == .debug)
        #expect(levels.isEnabled(.info, label: RuntimeLogLevels.accessLabel))
        try levels.apply("access=off")
        #expect(!levels.isEnabled(.critical, label: RuntimeLogLevels.accessLabel))
        #expect(levels.description == "default=debug access=off")
        try levels.apply("default=warning,access=info")
        #expect(levels.description == "default=warning access=info")
        #expect(!levels.isEnabled(.info, label: "weft.node"))
    }

    @Test("an invalid change changes nothing", arguments: [
        ("loud", "unknown log level 'loud'"), ("debug,access=loud", "unknown log level 'loud'"),
        ("off", "only the access log can be switched off"), ("pool=debug", "unknown log scope 'pool'"), ("", "no level given"),
    ])
    func invalid(spec: String, message: String) {
        let levels = RuntimeLogLevels(default: .info, accessEnabled: false)
        do {
            try levels.apply(spec)
            Issue.record("'\(spec)' was accepted")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
        #expect(levels.description == "default=info access=off")
    }
}
