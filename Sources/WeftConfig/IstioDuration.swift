// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Istio's duration strings (protobuf `Duration` in YAML): one or more parts, each a decimal number
/// with an optional fraction and a unit `h`, `m`, `s`, `ms`, `us` (or `µs`) or `ns`, such as `1.5s`,
/// `100ms` or `1h30m`. Negative durations and durations over one year are rejected; whether zero is
/// allowed is the field's business.
enum IstioDuration {
    /// The longest duration accepted: 365 days.
    static let maximum = Duration.seconds(365 * 24 * 3600)

    /// Parses `text`.
    ///
    /// - Throws: ``GatewayDuration/ParseError`` saying what is wrong.
    static func parse(_ text: String) throws(GatewayDuration.ParseError) -> Duration {
        let example = "such as 100ms, 1.5s or 1h30m"
        func fail(_ problem: String) -> GatewayDuration.ParseError {
            GatewayDuration.ParseError(message: "\"\(text)\" is not a duration (\(example)): \(problem)")
        }
        guard !text.isEmpty else {
            throw GatewayDuration.ParseError(message: "must not be empty; write a duration \(example)")
        }
        if text.hasPrefix("-") { throw fail("it must not be negative") }
        let units: [(String, Double)] = [
            ("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("h", 3600), ("m", 60), ("s", 1),
        ]
        var seconds = 0.0
        var rest = Substring(text)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else {
                throw fail("expected a number at \"\(rest)\"")
            }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else {
                throw fail(rest.isEmpty ? "\(number) has no unit; add h, m, s or ms" : "unknown unit at \"\(rest)\"")
            }
            rest = rest.dropFirst(unit.count)
            seconds += value * scale
        }
        // Checked before converting: a huge value (99999999999h) would not fit the nanosecond count.
        guard seconds.isFinite, seconds <= 366 * 86_400 else { throw fail("it is longer than one year") }
        let result = Duration.nanoseconds(Int64((seconds * 1e9).rounded()))
        guard result <= maximum else { throw fail("it is longer than one year") }
        return result
    }
}
