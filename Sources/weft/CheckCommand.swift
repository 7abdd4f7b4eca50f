// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import WeftConfig
import WeftModel

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate manifests; print every problem as file:line: kind/namespace/name: field: message.",
        discussion: "Exit status 1 when there is any error, 0 when clean (warnings alone keep 0)."
    )

    @Argument(help: "Manifest files or directories (*.yaml, *.yml).")
    var paths: [String]

    @Option(help: "The mesh's SPIFFE trust domain.")
    var trustDomain: String = "cluster.local"

    func run() throws {
        let result = ManifestLoader.load(paths: paths, trustDomain: trustDomain)
        for diagnostic in result.diagnostics {
            print(diagnostic.description)
        }
        let failures = result.diagnostics.count(where: \.failsCheck)
        if failures > 0 {
            FileHandle.standardError.write(Data("\(failures) error(s), \(result.warnings.count) warning(s)\n".utf8))
            throw ExitCode(1)
        }
        let snapshot = result.snapshot
        print(
            "ok: \(snapshot?.namespaces.count ?? 0) namespaces, \(snapshot?.workloads.count ?? 0) workloads, \(snapshot?.services.count ?? 0) services, \(result.warnings.count) warning(s)"
        )
    }
}
