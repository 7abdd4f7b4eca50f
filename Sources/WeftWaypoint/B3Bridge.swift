// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import NIOHTTP1

/// Zipkin B3 propagation on top of a W3C tracer (swift-otel has no B3 propagator): a caller that sends only B3
/// (`x-b3-traceid`/`x-b3-spanid`/`x-b3-sampled`, or the single `b3` header) has its trace continued as if it had
/// sent the equivalent `traceparent`, and the upstream request gets B3 headers in the caller's style naming the
/// waypoint's span (the caller's span becomes `x-b3-parentspanid`). Without a tracer nothing changes.
enum B3Bridge {
    /// Which B3 headers the caller used.
    enum Style: Equatable {
        case none
        /// `x-b3-traceid`, `x-b3-spanid`, `x-b3-sampled`, `x-b3-parentspanid`.
        case multi
        /// `b3: {traceid}-{spanid}-{sampled}-{parentspanid}`.
        case single
    }

    /// The caller's B3 context.
    struct Context: Equatable {
        /// 16 or 32 lower-case hex digits, as sent.
        var traceID: String
        var spanID: String
        /// `nil`: the caller deferred the decision.
        var sampled: Bool?
    }

    /// The headers the tracer should extract from (with a `traceparent` derived from B3 when the caller sent no
    /// W3C context) and the caller's B3 style.
    static func inbound(_ headers: HTTPHeaders) -> (headers: HTTPHeaders, style: Style) {
        guard let (context, style) = parse(headers) else { return (headers, .none) }
        guard headers.first(name: "traceparent") == nil, let context else { return (headers, style) }
        var derived = headers
        derived.add(name: "traceparent", value: traceparent(context))
        return (derived, style)
    }

    /// Rewrites the upstream request's B3 headers (in `style`) from the `traceparent` the tracer injected into
    /// `headers`, when it names a span other than the caller's.
    static func outbound(_ headers: inout HTTPHeaders, style: Style, caller: HTTPHeaders) {
        guard let injected = headers.first(name: "traceparent"), let w3c = parseTraceparent(injected),
            let (callerContext, _) = parse(caller), let callerContext, w3c.spanID != callerContext.spanID
        else { return }
        // A 64-bit B3 trace id was widened with leading zeros; it goes back in the caller's width.
        var traceID = w3c.traceID
        if callerContext.traceID.count == 16, traceID.hasPrefix("0000000000000000") { traceID = String(traceID.suffix(16)) }
        let sampled = w3c.sampled ? "1" : "0"
        switch style {
        case .none:
            return
        case .multi:
            headers.replaceOrAdd(name: "x-b3-traceid", value: traceID)
            headers.replaceOrAdd(name: "x-b3-spanid", value: w3c.spanID)
            headers.replaceOrAdd(name: "x-b3-parentspanid", value: callerContext.spanID)
            headers.replaceOrAdd(name: "x-b3-sampled", value: sampled)
            headers.remove(name: "x-b3-flags")
        case .single:
            headers.replaceOrAdd(name: "b3", value: "\(traceID)-\(w3c.spanID)-\(sampled)-\(callerContext.spanID)")
        }
    }

    /// The caller's B3 context and style; the context is `nil` for a sampling-only header (`b3: 0`,
    /// `x-b3-sampled` alone). `nil` when the request has no B3 header at all.
    static func parse(_ headers: HTTPHeaders) -> (Context?, Style)? {
        if let single = headers.first(name: "b3") {
            let parts = single.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, isHex(parts[0], lengths: [16, 32]), isHex(parts[1], lengths: [16]) else {
                return (nil, .single)
            }
            return (Context(traceID: parts[0].lowercased(), spanID: parts[1].lowercased(), sampled: parts.count > 2 ? sampled(parts[2]) : nil), .single)
        }
        let trace = headers.first(name: "x-b3-traceid")
        let span = headers.first(name: "x-b3-spanid")
        guard trace != nil || span != nil || headers.first(name: "x-b3-sampled") != nil else { return nil }
        guard let trace, let span, isHex(trace, lengths: [16, 32]), isHex(span, lengths: [16]) else { return (nil, .multi) }
        let debug = headers.first(name: "x-b3-flags") == "1"
        let sampledValue = debug ? true : headers.first(name: "x-b3-sampled").flatMap(sampled)
        return (Context(traceID: trace.lowercased(), spanID: span.lowercased(), sampled: sampledValue), .multi)
    }

    /// The W3C `traceparent` equivalent of a B3 context (a deferred decision is sampled, as Envoy does).
    static func traceparent(_ context: Context) -> String {
        let trace = context.traceID.count == 16 ? "0000000000000000" + context.traceID : context.traceID
        return "00-\(trace)-\(context.spanID)-\(context.sampled == false ? "00" : "01")"
    }

    static func parseTraceparent(_ value: String) -> (traceID: String, spanID: String, sampled: Bool)? {
        let parts = value.split(separator: "-").map(String.init)
        guard parts.count >= 4, isHex(parts[1], lengths: [32]), isHex(parts[2], lengths: [16]), isHex(parts[3], lengths: [2]),
            let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        return (parts[1].lowercased(), parts[2].lowercased(), flags & 1 == 1)
    }

    private static func sampled(_ text: String) -> Bool? {
        switch text {
        case "1", "d", "true": true
        case "0", "false": false
        default: nil
        }
    }

    private static func isHex(_ text: String, lengths: Set<Int>) -> Bool {
        lengths.contains(text.utf8.count) && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0 | 0x20) }
    }
}
