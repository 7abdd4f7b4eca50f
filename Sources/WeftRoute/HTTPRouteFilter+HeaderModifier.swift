// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension HTTPRouteFilter {
    /// Gateway API's `HTTPHeaderFilter`, used by `RequestHeaderModifier` and `ResponseHeaderModifier`.
    ///
    /// Names are compared case-insensitively and each name may appear in only one action of a filter
    /// (``RouteTable`` rejects the route otherwise), so the order of the actions below never changes the
    /// result; it is Envoy's: remove, then set, then add.
    public struct HeaderModifier: Hashable, Sendable {
        /// `set`: replace every value of the header with this one (or add it if absent).
        public var set: [HTTPHeaderField]
        /// `add`: append a value, keeping the existing ones. The field is added as a separate line; a
        /// backend reading the header sees the values joined with `,`.
        public var add: [HTTPHeaderField]
        /// `remove`: delete every field with one of these names.
        public var remove: [String]

        /// Creates a header modifier.
        public init(set: [HTTPHeaderField] = [], add: [HTTPHeaderField] = [], remove: [String] = []) {
            self.set = set
            self.add = add
            self.remove = remove
        }

        /// Applies the modifier to a header list in place.
        ///
        /// `set` replaces the first field of that name (keeping its position, using the configured
        /// spelling of the name) and deletes the others; `add` appends at the end.
        ///
        /// - Parameter headers: Request or response headers, in order.
        public func apply(to headers: inout [HTTPHeaderField]) {
            if !remove.isEmpty {
                headers.removeAll { field in remove.contains { field.hasName($0) } }
            }
            for field in set {
                if let first = headers.firstIndex(where: { $0.hasName(field.name) }) {
                    headers[first] = field
                    var index = headers.index(after: first)
                    while index < headers.endIndex {
                        if headers[index].hasName(field.name) {
                            headers.remove(at: index)
                        } else {
                            index += 1
                        }
                    }
                } else {
                    headers.append(field)
                }
            }
            headers.append(contentsOf: add)
        }

        /// Every name the filter touches, with the action that uses it, in declaration order.
        var touchedNames: [(action: String, index: Int, name: String)] {
            self.set.enumerated().map { ("set", $0.offset, $0.element.name) }
                + add.enumerated().map { ("add", $0.offset, $0.element.name) }
                + remove.enumerated().map { ("remove", $0.offset, $0.element) }
        }
    }
}
