// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import WeftHBONE
import WeftIdentity
import WeftModel
import WeftPolicy

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
    /// Metrics and the access log.
    public let telemetry: NodeTelemetry
    /// Where the configuration came from and how reloads went.
    public let configStatus: ConfigStatus
    /// What `/healthz/ready` answers.
    public let readiness = Readiness()
    /// Inbound connections let in, re-checked when the policies change.
    public let authorized = AuthorizedConnections()
    private let snapshotBox: NIOLockedValueBox<(snapshot: MeshSnapshot, policies: PolicySet)>

    public init(
        node: String,
        snapshot: MeshSnapshot,
        identities: IdentityManager,
        hboneConfiguration: HBONEConfiguration,
        group: any EventLoopGroup,
        logger: Logger,
        telemetry: NodeTelemetry = NodeTelemetry(version: "dev"),
        configSources: [String] = []
    ) {
        self.node = node
        self.telemetry = telemetry
        self.configStatus = ConfigStatus(sources: configSources)
        self.snapshotBox = NIOLockedValueBox((snapshot, PolicySet(snapshot: snapshot)))
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
    public var snapshot: MeshSnapshot { snapshotBox.withLockedValue { $0.snapshot } }

    /// The AuthorizationPolicies in force, indexed.
    public var policies: PolicySet { snapshotBox.withLockedValue { $0.policies } }

    /// Replaces the configuration. Established connections stay, except inbound ones the new policies deny:
    /// those are closed and logged.
    public func replace(snapshot: MeshSnapshot) {
        let policies = PolicySet(snapshot: snapshot)
        snapshotBox.withLockedValue { $0 = (snapshot, policies) }
        for (facts, refusal) in authorized.revalidate(under: policies, snapshot: snapshot) {
            telemetry.rejected("closed_on_reload")
            logger.warning(
                "connection closed: no longer authorized",
                metadata: ["connection": "\(facts)", "decision": "\(refusal)"]
            )
        }
    }

    /// Checks an inbound connection against the policies in force; logs and counts a denial.
    func authorize(_ facts: ConnectionFacts) -> Decision {
        let decision = policies.evaluate(facts)
        if !decision.isAllowed {
            logger.warning("connection denied by policy", metadata: ["connection": "\(facts)", "decision": "\(decision)"])
        }
        return decision
    }

    /// The workloads this node serves.
    public var localWorkloads: [Workload] { snapshot.workloads(onNode: node) }
}
