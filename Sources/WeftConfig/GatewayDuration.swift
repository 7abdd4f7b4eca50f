// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// Gateway API's duration format (GEP-2257), used by `timeouts` and `retry.backoff`: one to four parts,
/// each one to five digits and a unit `h`, `m`, `s` or `ms` (the API schema's pattern
/// `^([0-9]{1,5}(h|m|s|ms)){1,4}$`), such as `500ms`, `10s` or `1h30m`. There are no fractions, signs,
/// spaces or larger units; `0s` is zero, which a timeout reads as "no timeout".
enum GatewayDuration {
    /// Why a text is not a Gateway API duration, for an operator.
    struct ParseError: Error, Equatable {
        var message: String
    }

    /// Parses `text`.
    ///
    /// - Throws: ``ParseError`` saying what is wrong and how to write it instead.
    static func parse(_ text: String) throws(ParseError) -> Duration {
        let example = "such as 500ms, 10s or 1h30m"
        func fail(_ problem: String) -> ParseError {
            ParseError(message: "\"\(text)\" is not a Gateway API duration (\(example)): \(problem)")
        }
        let fractions = "fractions are not allowed; use a smaller unit (1500ms, not 1.5s)"
        guard !text.isEmpty else { throw ParseError(message: "must not be empty; write a duration \(example)") }
        if text.hasPrefix("-") { throw fail("it must not be negative") }
        var total = Duration.zero
        var parts = 0
        var index = text.startIndex
        while index < text.endIndex {
            let digitsStart = index
            while index < text.endIndex, text[index].isASCII, text[index].isNumber { index = text.index(after: index) }
            let digits = text[digitsStart..<index]
            let unitStart = index
            while index < text.endIndex, text[index].isLetter { index = text.index(after: index) }
            let unit = text[unitStart..<index]
            let next = index < text.endIndex ? text[index] : nil
            if next == "." || next == "," { throw fail(fractions) }
            if digits.isEmpty {
                if !unit.isEmpty { throw fail("expected a number before \"\(unit)\"") }
                throw fail("unexpected \"\(next.map(String.init) ?? "")\"")
            }
            if unit.isEmpty {
                if index < text.endIndex { throw fail("unexpected \"\(text[index])\"") }
                throw fail("\(digits) has no unit; add h, m, s or ms")
            }
            if digits.count > 5 { throw fail("\(digits) has more than 5 digits; use a larger unit") }
            guard let value = Int64(digits) else { throw fail("\(digits) is not a number") }
            switch unit {
            case "h": total += .seconds(value * 3600)
            case "m": total += .seconds(value * 60)
            case "s": total += .seconds(value)
            case "ms": total += .milliseconds(value)
            default: throw fail("unit \"\(unit)\" is not allowed; use h, m, s or ms (the largest unit is h)")
            }
            parts += 1
        }
        if parts > 4 { throw fail("it has \(parts) parts; at most 4 are allowed") }
        return total
    }
}
