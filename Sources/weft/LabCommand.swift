// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import ArgumentParser
import Foundation
import WeftLab

struct Lab: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The local lab: nodes and pods as network namespaces on this host, real capture and HBONE.",
        subcommands: [Up.self, Down.self, Echo.self, Probe.self]
    )

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the lab, start a weft node per lab node, send traffic between pods and report."
        )
        @Option(help: "Lab nodes (1-9).") var nodes: Int = 2
        @Option(help: "Pods per node (1-9).") var podsPerNode: Int = 2
        @Option(help: "Put this namespace's Services behind a waypoint ('lab'): runs 'weft waypoint' in a pod of its own.")
        var waypoint: String?
        @Option(help: "Lab folder (manifests, CA, logs, capture).") var dir: String = "/var/tmp/weft-lab"

        func validate() throws {
            guard (1...9).contains(nodes), (1...9).contains(podsPerNode) else {
                throw ValidationError("--nodes and --pods-per-node must be between 1 and 9")
            }
            if let waypoint, !LabPlan.waypointNamespaces.contains(waypoint) {
                throw ValidationError(
                    "--waypoint \(waypoint): the lab's workloads are in namespace "
                        + LabPlan.waypointNamespaces.map { "'\($0)'" }.joined(separator: ", ") + "; use --waypoint lab"
                )
            }
            guard getuid() == 0 else { throw ValidationError("the lab creates network namespaces: run it as root") }
        }

        func run() throws {
            let runner = LabRunner(directory: dir, weft: CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0] : Bundle.main.executablePath ?? "weft")
            do {
                try runner.up(plan: LabPlan(nodes: nodes, podsPerNode: podsPerNode, waypoint: waypoint != nil))
                print("\nThe lab is running (logs and capture in \(dir)). Remove it with: weft lab down --dir \(dir)")
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every lab namespace, process and file, even after a crash.")
        @Option(help: "Lab folder.") var dir: String = "/var/tmp/weft-lab"

        func run() throws {
            try LabRunner(directory: dir, weft: "weft").down()
        }
    }

    struct Echo: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "(lab workload) An echo server that says its name first.", shouldDisplay: false)
        @Option var listen: String
        @Option var name: String

        func run() throws {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]) else { throw ValidationError("--listen ip:port") }
            try LabTools.echo(host: String(parts[0]), port: port, name: name)
        }
    }

    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "(lab workload) Send a payload and check the echo.", shouldDisplay: false)
        @Option var to: String
        @Option var payload: String

        func run() throws {
            let parts = to.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]) else { throw ValidationError("--to ip:port") }
            let result = LabTools.probe(host: String(parts[0]), port: port, payload: Array(payload.utf8))
            if result.ok {
                print("ok \(result.answeredBy ?? "?") src=\(result.sourceSeen ?? "?") \(result.bytes)")
            } else {
                print("failed: \(result.error ?? "unknown")")
                throw ExitCode(1)
            }
        }
    }
}
