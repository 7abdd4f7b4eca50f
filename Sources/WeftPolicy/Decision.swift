// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// A policy named in a decision: enough to log it and find it again, without the rules.
public struct PolicyReference: Hashable, Sendable, CustomStringConvertible {
    /// The policy's namespace.
    public var namespace: String
    /// The policy's name.
    public var name: String
    /// The policy's action.
    public var action: AuthorizationPolicy.Action
    /// Where the policy was declared, when known.
    public var location: ManifestLocation?

    /// Creates a reference from its parts.
    public init(
        namespace: String, name: String, action: AuthorizationPolicy.Action, location: ManifestLocation? = nil
    ) {
        self.namespace = namespace
        self.name = name
        self.action = action
        self.location = location
    }

    /// The reference to `policy`.
    public init(_ policy: AuthorizationPolicy) {
        self.init(namespace: policy.namespace, name: policy.name, action: policy.action, location: policy.location)
    }

    /// `namespace/name`.
    public var key: String { "\(namespace)/\(name)" }

    /// `ACTION policy namespace/name (file:line)`.
    public var description: String {
        "\(action.rawValue) policy \(key)" + (location.map { " (\($0))" } ?? "")
    }
}

/// The answer for one connection (node) or request (waypoint), with what decided it. Cheap to produce: no
/// strings are built until ``description`` (or an `explain`) is asked for.
public struct Decision: Hashable, Sendable, CustomStringConvertible {
    /// Allow or deny the connection.
    public enum Verdict: String, Hashable, Sendable {
        case allow = "ALLOW"
        case deny = "DENY"
    }

    /// What decided, in Istio's evaluation order.
    public enum Cause: Hashable, Sendable {
        /// A DENY policy's rule matched (at a waypoint also a CUSTOM policy's, which Weft enforces as a
        /// denial for lack of an external authorizer; the reference's action says which).
        case deniedByPolicy(PolicyReference, rule: Int)
        /// No DENY matched and no ALLOW policy applies to the workload.
        case noAllowPolicy
        /// An ALLOW policy's rule matched.
        case allowedByPolicy(PolicyReference, rule: Int)
        /// ALLOW policies apply (this many) but none matched.
        case noAllowPolicyMatched(allowPolicies: Int)
    }

    /// What the dry-run policies that apply would have decided had they been enforced together with the
    /// enforced ones (Istio's `istio.io/dry-run` shadow evaluation); reported, never enforced.
    public struct DryRun: Hashable, Sendable, CustomStringConvertible {
        /// The verdict with dry-run policies enforced too.
        public let verdict: Verdict
        /// Its cause.
        public let cause: Cause

        /// Creates a dry-run outcome.
        public init(verdict: Verdict, cause: Cause) {
            self.verdict = verdict
            self.cause = cause
        }

        /// `dry-run would deny: denied by DENY policy ns/x rule 0`.
        public var description: String {
            "dry-run would \(verdict == .allow ? "allow" : "deny"): " + Decision.describe(cause)
        }
    }

    /// Whether the connection or request may proceed.
    public let verdict: Verdict
    /// Why.
    public let cause: Cause
    /// What dry-run policies would have decided; `nil` when none applies (always at the node, which does not
    /// evaluate them on the data path).
    public let dryRun: DryRun?

    /// Creates a decision.
    public init(verdict: Verdict, cause: Cause, dryRun: DryRun? = nil) {
        self.verdict = verdict
        self.cause = cause
        self.dryRun = dryRun
    }

    /// Whether the verdict is ``Verdict/allow``.
    public var isAllowed: Bool { verdict == .allow }

    /// The policy and rule that decided, when one did.
    public var decidingPolicy: (policy: PolicyReference, rule: Int)? {
        switch cause {
        case .deniedByPolicy(let policy, let rule), .allowedByPolicy(let policy, let rule): return (policy, rule)
        case .noAllowPolicy, .noAllowPolicyMatched: return nil
        }
    }

    /// The reason in a log line: `denied by DENY policy shop/x rule 0 (p.yaml:4)`, followed by
    /// `; dry-run would …` when dry-run policies apply.
    public var description: String {
        Self.describe(cause) + (dryRun.map { "; \($0)" } ?? "")
    }

    private static func describe(_ cause: Cause) -> String {
        switch cause {
        case .deniedByPolicy(let policy, let rule): return "denied by \(policy.describing(rule: rule))"
        case .noAllowPolicy: return "allowed: no DENY policy matched and no ALLOW policy applies"
        case .allowedByPolicy(let policy, let rule): return "allowed by \(policy.describing(rule: rule))"
        case .noAllowPolicyMatched(let count):
            return "denied: no ALLOW policy matched; \(count) ALLOW \(count == 1 ? "policy applies" : "policies apply")"
        }
    }

    /// The reason as ztunnel logs it: `explicitly denied by: ns/name`, `allow policies exist, but none allowed`.
    public var ztunnelReason: String? {
        switch cause {
        case .deniedByPolicy(let policy, _): return "explicitly denied by: \(policy.key)"
        case .noAllowPolicyMatched: return "allow policies exist, but none allowed"
        case .noAllowPolicy, .allowedByPolicy: return nil
        }
    }
}

extension PolicyReference {
    /// `DENY policy ns/x rule 0 (file:line)`.
    func describing(rule: Int) -> String {
        "\(action.rawValue) policy \(key) rule \(rule)" + (location.map { " (\($0))" } ?? "")
    }
}
