// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Synchronization

/// A snapshot's memo of each Service's selected endpoints, filled on first use: the node resolves a VIP and the
/// waypoint picks an endpoint on every new connection or request, and a label-selector scan over every workload
/// would make that cost grow with the mesh. Workloads are grouped by namespace once, when the snapshot is built.
final class EndpointIndex: Sendable {
    private struct Entry {
        var selector: LabelSelector
        var endpoints: [Workload]
    }

    private let byNamespace: [String: [Workload]]
    private let memo = Mutex<[String: Entry]>([:])

    init(workloads: [Workload]) {
        byNamespace = Dictionary(grouping: workloads, by: \.namespace)
    }

    /// The workloads in `service`'s namespace its selector matches (not its inline endpoints).
    func selected(by service: MeshService, selector: LabelSelector) -> [Workload] {
        if let entry = memo.withLock({ $0[service.uid] }), entry.selector == selector { return entry.endpoints }
        let endpoints = (byNamespace[service.namespace] ?? []).filter { selector.matches($0.labels) }
        memo.withLock { $0[service.uid] = Entry(selector: selector, endpoints: endpoints) }
        return endpoints
    }
}
