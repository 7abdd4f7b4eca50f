// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel
import WeftRoute

/// Where an object was declared: its file, the line of its `metadata.name`, and its `Kind/namespace/name`.
struct ObjectOrigin: Hashable {
    var file: String
    var line: Int
    var object: String
    /// The object's `istio.io/use-waypoint` label (Namespaces, Services, ServiceEntries, Pods and
    /// WorkloadEntries), resolved against the waypoints once every object is read.
    var useWaypoint: WaypointUse?

    /// `file:line`, for messages that point at another object.
    var location: String { "\(file):\(line)" }
}

/// An address of a workload or service together with the field and line it came from, so that a
/// duplicate can be reported where it is written.
struct LocatedAddress: Hashable {
    var ip: IPAddress
    var field: String
    var line: Int
}

/// One manifest object translated into the model, with what the cross-object checks need.
enum TranslatedObject {
    case namespace(MeshNamespace, ObjectOrigin)
    /// A Pod or WorkloadEntry; `addresses` are the ones that go into the IP index (and must be unique).
    case workload(Workload, ObjectOrigin, addresses: [LocatedAddress])
    /// A Service or ServiceEntry; `vips` must be unique across services.
    case service(MeshService, ObjectOrigin, vips: [LocatedAddress])
    /// An Istio PeerAuthentication.
    case peerAuthentication(PeerAuthentication, ObjectOrigin)
    /// An Istio AuthorizationPolicy.
    case authorizationPolicy(AuthorizationPolicy, ObjectOrigin)
    /// A Gateway of class `istio-waypoint`; its workloads are resolved by the assembler.
    case waypoint(Waypoint, ObjectOrigin)
    /// Any other Gateway: ignored, but kept so routes naming it as a parent get an accurate message.
    case otherGateway(className: String, ObjectOrigin)
    /// An HTTPRoute or GRPCRoute.
    case route(TranslatedRoute, ObjectOrigin)
    /// An Istio VirtualService, with the lines of its fields.
    case virtualService(VirtualServiceSpec, FieldLines, ObjectOrigin)
    /// An Istio DestinationRule, with the lines of its fields.
    case destinationRule(DestinationRuleSpec, FieldLines, ObjectOrigin)
    /// A Weft LocalRateLimitPolicy, its targets not yet resolved, with the lines of its fields.
    case localRateLimitPolicy(LocalRateLimitPolicyTranslator.Policy, FieldLines, ObjectOrigin)

    /// Where the object was declared.
    var origin: ObjectOrigin {
        switch self {
        case .namespace(_, let origin), .workload(_, let origin, _), .service(_, let origin, _),
            .peerAuthentication(_, let origin), .authorizationPolicy(_, let origin), .waypoint(_, let origin),
            .otherGateway(_, let origin), .route(_, let origin), .virtualService(_, _, let origin),
            .destinationRule(_, _, let origin), .localRateLimitPolicy(_, _, let origin):
            return origin
        }
    }
}
