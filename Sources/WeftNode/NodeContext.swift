// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WeftHBONE
import WeftIdentity
import WeftModel

/// What every listener of a node shares (ztunnel's `ProxyInputs`): the node's name, the current mesh snapshot,
/// certificates, the HBONE client pool, the connection tracker and the logger.
public final class NodeContext: Sendable {
    public let node: String
    public let identities: IdentityManager
    public let verifier: PeerVerifier
    public let pool: HBONEClientPool
    public let tracker: ConnectionTracker
    public let hboneConfiguration: HBONEConfiguration
    public let logger: Logger
    public let group: any EventLoopGroup
    public let planner: OutboundPlanner
    public let inboundPolicy: InboundPolicy
    public let counters = NodeCounters()
    private let snapshotBox: NIOLockedValueBox<MeshSnapshot>

    public init(
        node: String,
        snapshot: MeshSnapshot,
        identities: IdentityManager,
        hboneConfiguration: HBONEConfiguration,
        group: any EventLoopGroup,
        logger: Logger
    ) {
        self.node = node
        self.snapshotBox = NIOLockedValueBox(snapshot)
        self.identities = identities
        self.verifier = PeerVerifier(roots: [identities.ca.certificate], trustDomains: [identities.trustDomain])
        self.hboneConfiguration = hboneConfiguration
        self.group = group
        self.logger = logger
        self.tracker = ConnectionTracker()
        self.planner = OutboundPlanner()
        self.inboundPolicy = InboundPolicy(node: node)
        self.pool = HBONEClientPool(
            configuration: hboneConfiguration,
            identities: identities,
            verifier: verifier,
            logger: logger,
            sweepOn: group.next()
        )
    }

    /// The configuration in force.
    public var snapshot: MeshSnapshot { snapshotBox.withLockedValue { $0 } }

    /// Replaces the configuration; connections already established are not touched.
    public func replace(snapshot: MeshSnapshot) {
        snapshotBox.withLockedValue { $0 = snapshot }
    }

    /// The workloads this node serves.
    public var localWorkloads: [Workload] { snapshot.workloads(onNode: node) }
}
