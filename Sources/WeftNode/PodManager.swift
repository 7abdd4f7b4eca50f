// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOPosix
import ServiceLifecycle
import WeftModel
import WeftRedirect

/// Keeps the set of captured pods equal to what the configuration says: a pod of this node, with a netns
/// annotation, in ambient mode. Reconciles at start and on every configuration change; on shutdown the pods'
/// listeners close and their tables stay (fail closed).
actor PodManager: Service {
    /// What identifies a pod's capture: changing any of it restarts the pod's proxy.
    struct Desired: Hashable {
        var uid: String
        var netns: String
        var addresses: [IPAddress]
        var identity: SPIFFEID
    }

    private let context: NodeContext
    private let contexts: TLSContextCache
    private let threadPool: NIOThreadPool
    private let rules: RedirectRules
    private var running: [String: (desired: Desired, proxy: PodProxy)] = [:]

    init(context: NodeContext, contexts: TLSContextCache, threadPool: NIOThreadPool, rules: RedirectRules = RedirectRules()) {
        self.context = context
        self.contexts = contexts
        self.threadPool = threadPool
        self.rules = rules
    }

    /// The captured pods a snapshot asks for on this node.
    static func desired(in snapshot: MeshSnapshot, node: String) -> [String: (Desired, Workload)] {
        var result: [String: (Desired, Workload)] = [:]
        for workload in snapshot.workloads(onNode: node) {
            guard let netns = Enrollment.netns(of: workload), Enrollment.isAmbient(workload, in: snapshot) else { continue }
            result[workload.uid] = (
                Desired(uid: workload.uid, netns: netns, addresses: workload.addresses, identity: snapshot.identity(of: workload)),
                workload
            )
        }
        return result
    }

    /// Starts, restarts and removes pod proxies to match `snapshot`. A pod that fails to start is retried on the
    /// next reconcile; the others are not affected.
    func reconcile(_ snapshot: MeshSnapshot) async {
        let want = Self.desired(in: snapshot, node: context.node)
        for (uid, current) in running where want[uid]?.0 != current.desired {
            running[uid] = nil
            // Left the mesh (or opted out): delete its table. Changed: the new proxy replaces the table atomically.
            await current.proxy.stop(removeTable: want[uid] == nil)
        }
        for (uid, (desired, workload)) in want.sorted(by: { $0.key < $1.key }) where running[uid] == nil {
            let proxy = PodProxy(
                workload: workload, netns: desired.netns, context: context, contexts: contexts, threadPool: threadPool,
                rules: rules
            )
            do {
                try await proxy.start()
                running[uid] = (desired, proxy)
            } catch {
                await proxy.stop(removeTable: false)
            }
        }
        for workload in snapshot.workloads(onNode: context.node) where Enrollment.netns(of: workload) != nil {
            if !Enrollment.isAmbient(workload, in: snapshot) {
                context.logger.debug("pod not in ambient mode; not captured", metadata: ["pod": "\(workload.namespace)/\(workload.name)"])
            }
        }
    }

    var enrolledCount: Int { running.count }

    /// The captured pods: uid and network namespace, sorted.
    var enrolled: [(uid: String, netns: String)] {
        running.values.map { ($0.desired.uid, $0.desired.netns) }.sorted { $0.uid < $1.uid }
    }

    func run() async throws {
        try? await gracefulShutdown()
        for (_, entry) in running { await entry.proxy.stop(removeTable: false) }
        running = [:]
    }
}
