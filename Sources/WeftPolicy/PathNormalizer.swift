// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// The path normalisation a waypoint applies before routing and authorization, as Istio configures Envoy
/// (MeshConfig `pathNormalization`; the path is then both matched and forwarded in normalised form, so a
/// policy sees exactly what the backend receives).
///
/// ## Steps, in Envoy's order
/// 1. ``Mode/decodeAndMergeSlashes`` only: `%2F`/`%2f` become `/` and `%5C`/`%5c` become `\`
///    (`path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD`). Otherwise escaped slashes are kept as
///    sent (`KEEP_UNCHANGED`, Istio's setting for the other modes), so `/a%2Fb` is one segment.
/// 2. RFC 3986 normalisation (`normalize_path`, Envoy's Chromium-derived canonicaliser):
///    - `\` becomes `/`;
///    - a percent-encoded unreserved character (`A`–`Z`, `a`–`z`, `0`–`9`, `-`, `.`, `_`, `~`) is decoded,
///      in either hex case (`%41` → `A`, `%2e` → `.`, `%7E` → `~`); every other escape is kept byte for byte
///      (`%2f` stays lowercase), and a `%` not followed by two hex digits is kept as is;
///    - `"`, `<`, `>`, `` ` `` and bytes ≥ 0x80 are percent-encoded (uppercase hex);
///    - dot segments are removed (RFC 3986 §5.2.4, after decoding, so `%2E%2E` is `..`); a `..` above the
///      root stays at the root (`/../b` → `/b`), as in Envoy.
/// 3. ``Mode/mergeSlashes`` and ``Mode/decodeAndMergeSlashes``: runs of `/` become one (`merge_slashes`).
///
/// Only the path is normalised; the query is returned unchanged and is never part of the matched path.
///
/// ## Rejected (`nil`; the caller answers 400)
/// A target that is empty or does not start with `/` (asterisk- and absolute-form are the caller's to
/// convert first); any NUL, control byte (0x00–0x1F, 0x7F) or space; `%00` in the path (Envoy's
/// canonicaliser fails on it); and a `#` (Envoy rejects fragments in the request target by default).
///
/// ## Default
/// ``Mode/base`` is Istio's default (`BASE`): `//b` stays `//b`. An ALLOW list on `/b` then refuses `//b`,
/// but an exact DENY on `/b` does not catch it — Istio documents this and recommends `MERGE_SLASHES` for
/// deny lists; choose ``Mode/mergeSlashes`` to follow that advice mesh-wide.
public struct PathNormalizer: Hashable, Sendable {
    /// Istio's `MeshConfig.pathNormalization.normalization` values, except `NONE`.
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// RFC 3986 normalisation only (Istio's default).
        case base = "BASE"
        /// ``base`` and then merging of adjacent slashes.
        case mergeSlashes = "MERGE_SLASHES"
        /// Decoding of `%2F` and `%5C` first, then ``mergeSlashes``.
        case decodeAndMergeSlashes = "DECODE_AND_MERGE_SLASHES"
    }

    /// A normalised request target.
    public struct Normalized: Hashable, Sendable {
        /// The normalised path: what policies match and routes see.
        public let path: String
        /// The query after `?`, unchanged; `nil` when the target had no `?`.
        public let query: String?

        /// The target to forward: ``path`` and, when present, `?` and ``query``.
        public var requestTarget: String { query.map { path + "?" + $0 } ?? path }
    }

    /// Which normalisation to apply.
    public var mode: Mode

    /// Creates a normaliser; ``Mode/base`` is Istio's default.
    public init(mode: Mode = .base) {
        self.mode = mode
    }

    /// Normalises a request target (`/path?query`).
    ///
    /// - Parameter requestTarget: The `:path` pseudo-header or HTTP/1 origin-form request target.
    /// - Returns: The normalised path and the query, or `nil` when the target cannot be normalised safely.
    public func normalize(_ requestTarget: String) -> Normalized? {
        var target = requestTarget
        return target.withUTF8 { normalize(utf8: $0) }
    }

    /// The normalised path alone (no query), or `nil` when the target is rejected.
    public func normalizedPath(_ requestTarget: String) -> String? {
        normalize(requestTarget)?.path
    }

    // MARK: - Implementation

    private func normalize(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Normalized? {
        guard bytes.first == UInt8(ascii: "/") else { return nil }
        for byte in bytes where byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "#") { return nil }
        let queryStart = bytes.firstIndex(of: UInt8(ascii: "?"))
        let pathBytes = UnsafeBufferPointer(rebasing: bytes[..<(queryStart ?? bytes.endIndex)])
        guard var path = canonicalise(pathBytes) else { return nil }
        if mode != .base { path = Self.mergingSlashes(path) }
        let query = queryStart.map { String(decoding: bytes[($0 + 1)...], as: UTF8.self) }
        return Normalized(path: String(decoding: path, as: UTF8.self), query: query)
    }

    /// Steps 1 and 2: decodes, converts, escapes and splits into segments, then removes dot segments.
    private func canonicalise(_ path: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // Segments after the leading `/`, each decoded; dot segments are resolved as each one closes.
        var output: [UInt8] = []
        output.reserveCapacity(path.count)
        var segmentStarts: [Int] = []  // where each kept segment starts in `output` (after its `/`)
        var segment: [UInt8] = []
        var index = 1
        func closeSegment(isLast: Bool) {
            let dots = Self.dotSegment(segment)
            if dots == 0 {
                output.append(UInt8(ascii: "/"))
                segmentStarts.append(output.count)
                output += segment
            } else {
                if dots == 2, let start = segmentStarts.popLast() { output.removeSubrange((start - 1)...) }
                // A trailing `.` or `..` leaves the directory: `/a/..` → `/`, `/a/.` → `/a/`.
                if isLast {
                    output.append(UInt8(ascii: "/"))
                    segmentStarts.append(output.count)
                }
            }
            segment.removeAll(keepingCapacity: true)
        }
        while index < path.count {
            var byte = path[index]
            index += 1
            if byte == UInt8(ascii: "%"), index + 1 < path.count, let high = Self.hex(path[index]),
                let low = Self.hex(path[index + 1])
            {
                let decoded = high << 4 | low
                if decoded == 0 { return nil }
                if mode == .decodeAndMergeSlashes && (decoded == UInt8(ascii: "/") || decoded == UInt8(ascii: "\\")) {
                    byte = decoded
                    index += 2
                } else if Self.isUnreserved(decoded) {
                    segment.append(decoded)
                    index += 2
                    continue
                } else {
                    segment += [UInt8(ascii: "%"), path[index], path[index + 1]]
                    index += 2
                    continue
                }
            }
            switch byte {
            case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                closeSegment(isLast: false)
            case UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "`"), 0x80...:
                segment += [UInt8(ascii: "%"), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0xF)]]
            default:
                segment.append(byte)
            }
        }
        closeSegment(isLast: true)
        if output.isEmpty { output.append(UInt8(ascii: "/")) }
        return output
    }

    /// 1 for `.`, 2 for `..`, 0 for any other segment (already decoded, so `%2E` counts as a dot).
    private static func dotSegment(_ segment: [UInt8]) -> Int {
        switch segment.count {
        case 1 where segment[0] == UInt8(ascii: "."): return 1
        case 2 where segment[0] == UInt8(ascii: ".") && segment[1] == UInt8(ascii: "."): return 2
        default: return 0
        }
    }

    /// Step 3: `/` runs collapsed to one.
    private static func mergingSlashes(_ path: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(path.count)
        for byte in path where !(byte == UInt8(ascii: "/") && result.last == UInt8(ascii: "/")) {
            result.append(byte)
        }
        return result
    }

    /// RFC 3986 `unreserved`: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
