// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension AuthorizationPolicy {
    /// One entry of `spec.rules`: it matches when at least one `from` entry, at least one `to` entry and every
    /// `when` condition match. An absent (empty) section matches anything, so `rules: [{}]` matches everything.
    public struct Rule: Hashable, Sendable {
        /// The rule's position in `spec.rules`, for "policy ns/name rule 2".
        public var index: Int
        /// `from[].source`, ORed; empty when `from` is absent.
        public var from: [Source]
        /// `to[].operation`, ORed; empty when `to` is absent.
        public var to: [Operation]
        /// `when[]`, ANDed.
        public var when: [Condition]

        /// Creates a rule; empty sections match anything.
        public init(index: Int, from: [Source] = [], to: [Operation] = [], when: [Condition] = []) {
            self.index = index
            self.from = from
            self.to = to
            self.when = when
        }
    }

    /// `from[].source`: every populated field must match (ANDed); inside one field any value may match
    /// (ORed); each `notX` field matches when none of its values do.
    ///
    /// String values use Istio's forms: exact `abc`, prefix `abc*`, suffix `*abc`, presence `*`.
    public struct Source: Hashable, Sendable {
        /// Peer identities in `<trust-domain>/ns/<ns>/sa/<sa>` form (the SPIFFE ID without `spiffe://`).
        public var principals: [String] = []
        /// Matches when none of these match (`principals` negated).
        public var notPrincipals: [String] = []
        /// JWT `<iss>/<sub>`; HTTP only.
        public var requestPrincipals: [String] = []
        /// Matches when none of these match (`requestPrincipals` negated).
        public var notRequestPrincipals: [String] = []
        /// The namespace of the peer's identity.
        public var namespaces: [String] = []
        /// Matches when none of these match (`namespaces` negated).
        public var notNamespaces: [String] = []
        /// `<ns>/<sa>`, or a bare `<sa>` meaning the policy's namespace; no wildcards.
        public var serviceAccounts: [String] = []
        /// Matches when none of these match (`serviceAccounts` negated).
        public var notServiceAccounts: [String] = []
        /// The peer (connection source) address.
        public var ipBlocks: [IPPrefix] = []
        /// Matches when none of these match (`ipBlocks` negated).
        public var notIpBlocks: [IPPrefix] = []
        /// The original client from `X-Forwarded-For` or PROXY protocol; HTTP only.
        public var remoteIpBlocks: [IPPrefix] = []
        /// Matches when none of these match (`remoteIpBlocks` negated).
        public var notRemoteIpBlocks: [IPPrefix] = []
        /// The trust domain of the peer's identity.
        public var trustDomains: [String] = []
        /// Matches when none of these match (`trustDomains` negated).
        public var notTrustDomains: [String] = []

        /// Creates a source; unset fields are not tested.
        public init(
            principals: [String] = [], notPrincipals: [String] = [],
            requestPrincipals: [String] = [], notRequestPrincipals: [String] = [],
            namespaces: [String] = [], notNamespaces: [String] = [],
            serviceAccounts: [String] = [], notServiceAccounts: [String] = [],
            ipBlocks: [IPPrefix] = [], notIpBlocks: [IPPrefix] = [],
            remoteIpBlocks: [IPPrefix] = [], notRemoteIpBlocks: [IPPrefix] = [],
            trustDomains: [String] = [], notTrustDomains: [String] = []
        ) {
            self.principals = principals
            self.notPrincipals = notPrincipals
            self.requestPrincipals = requestPrincipals
            self.notRequestPrincipals = notRequestPrincipals
            self.namespaces = namespaces
            self.notNamespaces = notNamespaces
            self.serviceAccounts = serviceAccounts
            self.notServiceAccounts = notServiceAccounts
            self.ipBlocks = ipBlocks
            self.notIpBlocks = notIpBlocks
            self.remoteIpBlocks = remoteIpBlocks
            self.notRemoteIpBlocks = notRemoteIpBlocks
            self.trustDomains = trustDomains
            self.notTrustDomains = notTrustDomains
        }
    }

    /// `to[].operation`: fields ANDed, values ORed, `notX` negated, as for ``Source``.
    public struct Operation: Hashable, Sendable {
        /// The workload (target) port the connection is addressed to, not the Service port.
        public var ports: [UInt16] = []
        /// Matches when none of these match (`ports` negated).
        public var notPorts: [UInt16] = []
        /// HTTP `Host`/`:authority`, case-insensitive; HTTP only.
        public var hosts: [String] = []
        /// Matches when none of these match (`hosts` negated).
        public var notHosts: [String] = []
        /// HTTP methods; HTTP only.
        public var methods: [String] = []
        /// Matches when none of these match (`methods` negated).
        public var notMethods: [String] = []
        /// HTTP paths, possibly with `{*}`/`{**}` templates; HTTP only.
        public var paths: [String] = []
        /// Matches when none of these match (`paths` negated).
        public var notPaths: [String] = []

        /// Creates an operation; unset fields are not tested.
        public init(
            ports: [UInt16] = [], notPorts: [UInt16] = [],
            hosts: [String] = [], notHosts: [String] = [],
            methods: [String] = [], notMethods: [String] = [],
            paths: [String] = [], notPaths: [String] = []
        ) {
            self.ports = ports
            self.notPorts = notPorts
            self.hosts = hosts
            self.notHosts = notHosts
            self.methods = methods
            self.notMethods = notMethods
            self.paths = paths
            self.notPaths = notPaths
        }
    }

    /// One `when[]` condition: the attribute `key` must match one of `values` (when given) and none of
    /// `notValues` (when given). At least one of the two lists is non-empty.
    public struct Condition: Hashable, Sendable {
        /// An Istio attribute such as `source.ip`, `destination.port` or `request.headers[x-token]`.
        public var key: String
        /// The attribute must match one of these, when any are given.
        public var values: [String]
        /// The attribute must match none of these.
        public var notValues: [String]

        /// Creates a condition.
        public init(key: String, values: [String] = [], notValues: [String] = []) {
            self.key = key
            self.values = values
            self.notValues = notValues
        }
    }
}
