// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Validates a ``VirtualServiceSpec`` and compiles its rules for ``VirtualServiceTable``, collecting
/// every problem (not only the first) with its field path inside `spec`.
struct VirtualServiceCompiler {
    let spec: VirtualServiceSpec
    private(set) var errors: [TrafficConfigError] = []

    init(spec: VirtualServiceSpec) {
        self.spec = spec
    }

    mutating func compile() -> [CompiledVirtualServiceRule] {
        spec.http.enumerated().map { index, rule in compileRule(rule, index: index) }
    }

    private mutating func fail(_ field: String, _ message: String) {
        errors.append(TrafficConfigError(field: field, message: message))
    }

    private mutating func compileRule(_ rule: VirtualServiceRule, index: Int) -> CompiledVirtualServiceRule {
        let field = "http[\(index)]"
        let matches = rule.match.enumerated().map { compileMatch($1, field: "\(field).match[\($0)]") }
        if rule.route.isEmpty && rule.redirect == nil {
            fail(field, "the rule has neither route nor redirect; add a route with a destination")
        }
        if !rule.route.isEmpty && rule.redirect != nil {
            fail(field + ".redirect", "a rule may have route or redirect, not both")
        }
        if rule.redirect != nil && rule.rewrite != nil {
            fail(field + ".rewrite", "rewrite cannot be combined with redirect")
        }
        var destinations: [VirtualServiceRule.RouteDestination] = []
        for (position, entry) in rule.route.enumerated() {
            let entryField = "\(field).route[\(position)]"
            if entry.destination.host.isEmpty {
                fail(entryField + ".destination.host", "must not be empty; name the destination Service")
            }
            if let weight = entry.weight, weight < 0 {
                fail(entryField + ".weight", "must not be negative, got \(weight)")
            }
            var resolved = entry
            resolved.destination = entry.destination.resolved(namespace: spec.namespace)
            destinations.append(resolved)
        }
        if rule.route.count > 1 {
            let sum = rule.route.reduce(0) { $0 + max($1.weight ?? 0, 0) }
            if sum != 100 {
                let weights = rule.route.map { $0.weight.map(String.init) ?? "unset" }.joined(separator: ", ")
                fail(
                    field + ".route",
                    "the weights of \(rule.route.count) destinations sum to \(sum) (\(weights)); they must sum to 100")
            }
        }
        if let code = rule.redirect?.redirectCode, !HTTPRouteFilter.RequestRedirect.allowedStatusCodes.contains(code) {
            fail(field + ".redirect.redirectCode", "\(code) is not a redirect code; use 301, 302, 303, 307 or 308")
        }
        if let timeout = rule.timeout, timeout < .zero {
            fail(field + ".timeout", "must not be negative")
        }
        let retry = compileRetry(rule, field: field)
        if let fault = rule.fault { checkFault(fault, field: field + ".fault") }
        if let mirror = rule.mirror, mirror.host.isEmpty {
            fail(field + ".mirror.host", "must not be empty; name the Service to mirror to")
        }
        if let percentage = rule.mirrorPercentage {
            checkPercentage(percentage, field: field + ".mirrorPercentage.value")
        }
        var source = rule
        source.mirror = rule.mirror?.resolved(namespace: spec.namespace)
        let weights =
            destinations.count == 1
            ? [max(destinations[0].weight ?? 100, 1)] : destinations.map { max($0.weight ?? 0, 0) }
        return CompiledVirtualServiceRule(
            index: index, source: source, matches: matches, destinations: destinations,
            choice: WeightedChoice(weights: weights), retry: retry)
    }

    private mutating func compileMatch(_ match: VirtualServiceMatch, field: String) -> CompiledVirtualServiceMatch {
        var compiled = CompiledVirtualServiceMatch(uri: nil, uriPrefix: nil, method: nil, headers: [], queryParams: [])
        if let uri = match.uri {
            compiled.uri = compileString(uri, field: field + ".uri", ignoringCase: match.ignoreUriCase)
            if case .prefix(let prefix) = uri { compiled.uriPrefix = prefix }
        }
        if let method = match.method { compiled.method = compileString(method, field: field + ".method") }
        for header in match.headers {
            let headerField = VirtualServiceMatch.keyPath(field + ".headers", header.name)
            if header.name != ASCII.lowercased(header.name) || header.name.isEmpty {
                fail(headerField, "header name \"\(header.name)\" must be lower case")
            }
            compiled.headers.append((header.name, header.match.flatMap { compileString($0, field: headerField) }))
        }
        for param in match.queryParams {
            let paramField = VirtualServiceMatch.keyPath(field + ".queryParams", param.name)
            compiled.queryParams.append((param.name, param.match.flatMap { compileString($0, field: paramField) }))
        }
        return compiled
    }

    private mutating func compileString(
        _ match: IstioStringMatch, field: String, ignoringCase: Bool = false
    ) -> CompiledStringMatch? {
        switch match {
        case .exact(let value): return ignoringCase ? .exactIgnoringCase(value) : .exact(value)
        case .prefix(let value): return ignoringCase ? .prefixIgnoringCase(value) : .prefix(value)
        case .regex(let pattern):
            do {
                return .regex(try CompiledRegex(pattern))
            } catch {
                fail(field + ".regex", "invalid regular expression \"\(pattern)\": \(error)")
                return nil
            }
        }
    }

    private mutating func compileRetry(_ rule: VirtualServiceRule, field: String) -> RetryPolicy {
        guard let retries = rule.retries else {
            var policy = RetryPolicy.istioDefault
            policy.perTryTimeout = rule.timeout.flatMap { $0 > .zero ? $0 : nil }
            return policy
        }
        let retryField = field + ".retries"
        var policy = RetryPolicy(attempts: retries.attempts ?? 0, conditions: RetryPolicy.istioDefaultConditions)
        if let attempts = retries.attempts, attempts < 0 {
            fail(retryField + ".attempts", "must not be negative, got \(attempts)")
        }
        if let perTry = retries.perTryTimeout, perTry < .milliseconds(1) {
            fail(retryField + ".perTryTimeout", "must be at least 1ms")
        }
        policy.perTryTimeout = retries.perTryTimeout ?? rule.timeout.flatMap { $0 > .zero ? $0 : nil }
        if let backoff = retries.backoff, backoff < .milliseconds(1) {
            fail(retryField + ".backoff", "must be at least 1ms")
        }
        policy.backoff = retries.backoff
        if let retryOn = retries.retryOn {
            do {
                let parsed = try RetryPolicy.parseRetryOn(retryOn)
                policy.conditions = parsed.conditions
                policy.retriableStatusCodes = parsed.statusCodes
            } catch {
                fail(retryField + ".retryOn", error.message)
            }
        }
        return policy
    }

    private mutating func checkFault(_ fault: VirtualServiceRule.Fault, field: String) {
        if fault.delay == nil && fault.abort == nil {
            fail(field, "a fault needs a delay or an abort")
        }
        if let delay = fault.delay {
            if delay.fixedDelay < .milliseconds(1) { fail(field + ".delay.fixedDelay", "must be at least 1ms") }
            if let percentage = delay.percentage {
                checkPercentage(percentage, field: field + ".delay.percentage.value")
            }
        }
        if let abort = fault.abort {
            if abort.grpcStatus == nil, !(200...599).contains(abort.httpStatus) {
                fail(field + ".abort.httpStatus", "\(abort.httpStatus) is not an HTTP status between 200 and 599")
            }
            if let percentage = abort.percentage {
                checkPercentage(percentage, field: field + ".abort.percentage.value")
            }
        }
    }

    private mutating func checkPercentage(_ value: Double, field: String) {
        if !(0...100).contains(value) || value.isNaN {
            fail(field, "percentage \(value) is not between 0 and 100")
        }
    }
}
