// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser

@main
struct Weft: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weft",
        abstract: "Weft: an ambient service-mesh data plane (node tunnel and waypoint).",
        version: "0.1.0",
        subcommands: [Node.self, Waypoint.self, CA.self, Check.self, Explain.self, Lab.self]
    )
}
