// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftRoute
import Yams

/// Reads the field shapes VirtualService and DestinationRule share (durations, percentages, string
/// matches, destinations, header operations), reporting type and range problems at the field.
struct IstioFieldReader {
    /// The versions of `networking.istio.io` Weft reads.
    static let versions = ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"]

    let reader: ObjectReader

    /// Warns about known fields Weft does not implement (they are ignored) and about unknown fields.
    func checkKeys(_ mapping: YAMLField, known: [String], unsupported: [String] = []) {
        reader.warnUnknownKeys(mapping, known: known + unsupported)
        for key in unsupported {
            guard let field = mapping.child(key) else { continue }
            reader.warning("\(key) is not supported by Weft's waypoint and is ignored", at: field)
        }
    }

    /// The duration at `parent.key` (``IstioDuration``), or `nil` when absent or invalid (reported).
    func duration(_ parent: YAMLField, _ key: String) -> Duration? {
        guard let field = parent.child(key), let text = reader.string(field) else { return nil }
        do {
            return try IstioDuration.parse(text)
        } catch {
            reader.error(error.message, at: field)
            return nil
        }
    }

    /// The number (integer or decimal) at `field`, or `nil` (reported).
    func number(_ field: YAMLField) -> Double? {
        if field.node.tagName == .int || field.node.tagName == .float, let value = field.node.float { return value }
        reader.error("must be a number, got \(field.node.shortDescription)", at: field)
        return nil
    }

    /// `parent.key.value`, Istio's `Percent` (0–100 is checked when compiling).
    func percentage(_ parent: YAMLField, _ key: String) -> Double? {
        guard let percent = reader.mapping(parent, key) else { return nil }
        checkKeys(percent, known: ["value"])
        return percent.child("value").flatMap(number)
    }

    /// A `StringMatch` mapping; `nil` for an empty one (a presence check) or a reported problem.
    func stringMatch(_ field: YAMLField) -> IstioStringMatch? {
        guard reader.isMapping(field) else { return nil }
        checkKeys(field, known: ["exact", "prefix", "regex"])
        let set = ["exact", "prefix", "regex"].filter { field.child($0) != nil }
        if set.count > 1 {
            reader.error("set only one of exact, prefix and regex, not \(set.joined(separator: " and "))", at: field)
            return nil
        }
        if let value = reader.string(field, "exact") { return .exact(value) }
        if let value = reader.string(field, "prefix") { return .prefix(value) }
        if let value = reader.string(field, "regex") { return .regex(value) }
        return nil
    }

    /// A `Destination`: `host` (required), `subset`, `port.number`.
    func destination(_ field: YAMLField) -> VirtualServiceDestination {
        var destination = VirtualServiceDestination(host: "")
        guard reader.isMapping(field) else { return destination }
        checkKeys(field, known: ["host", "subset", "port"])
        destination.host = reader.requiredString(field, "host", "name the destination Service, e.g. reviews") ?? ""
        destination.subset = reader.string(field, "subset")
        if let port = reader.mapping(field, "port") {
            checkKeys(port, known: ["number"])
            destination.port = port.child("number").flatMap(reader.port)
        }
        return destination
    }

    /// `headers {request, response}`.
    func headerOperations(_ parent: YAMLField) -> VirtualServiceRule.HeaderOperations? {
        guard let field = reader.mapping(parent, "headers") else { return nil }
        checkKeys(field, known: ["request", "response"])
        return VirtualServiceRule.HeaderOperations(
            request: headerModifier(field, "request"), response: headerModifier(field, "response"))
    }

    private func headerModifier(_ parent: YAMLField, _ key: String) -> HTTPRouteFilter.HeaderModifier? {
        guard let field = reader.mapping(parent, key) else { return nil }
        checkKeys(field, known: ["set", "add", "remove"])
        func fields(_ name: String) -> [HTTPHeaderField] {
            guard let map = reader.mapping(field, name) else { return [] }
            return map.entries.compactMap { entry in reader.string(entry.value).map { HTTPHeaderField(entry.key, $0) } }
        }
        let remove = reader.sequence(field, "remove").compactMap(reader.string)
        return HTTPRouteFilter.HeaderModifier(set: fields("set"), add: fields("add"), remove: remove)
    }

    /// The non-negative integer at `parent.key`, or `nil` (reported).
    func count(_ parent: YAMLField, _ key: String) -> Int? {
        reader.integer(parent, key, in: 0...Int(Int32.max))
    }
}
