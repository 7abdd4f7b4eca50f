// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Instrumentation
import NIOHTTP1

/// Reads trace context (W3C `traceparent`/`tracestate`, B3) from a request's headers, for the tracer's propagators.
struct HTTPHeadersExtractor: Extractor {
    func extract(key: String, from carrier: HTTPHeaders) -> String? {
        carrier.first(name: key)
    }
}

/// Writes the waypoint's trace context into the upstream request's headers, replacing the caller's: the backend
/// sees the waypoint's span as its parent.
struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
