// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension ConsistentHashKey {
    /// The value of the first cookie `name` in the `cookie` header values (`a=1; sid=xyz`), with
    /// surrounding double quotes removed; `nil` when absent or empty (an empty cookie is no key, as in
    /// Envoy). Names compare exactly: cookie names are case-sensitive.
    public static func cookieValue(named name: String, inCookieHeaders headers: [String]) -> Substring? {
        for header in headers {
            for pair in header.split(separator: ";", omittingEmptySubsequences: true) {
                let trimmed = pair.trimmingWhitespace
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
                var value = trimmed[trimmed.index(after: equals)...]
                if value.count >= 2, value.first == "\"", value.last == "\"" {
                    value = value.dropFirst().dropLast()
                }
                if !value.isEmpty { return value }
            }
        }
        return nil
    }

    /// A new hash cookie with a random 16-hex-digit value.
    ///
    /// - Parameters:
    ///   - name: The cookie name.
    ///   - path: The `Path` attribute; omitted when `nil` or empty.
    ///   - ttl: The lifetime: `Max-Age` in whole seconds (fractions dropped, as Envoy does); 0 or less
    ///     gives a session cookie without `Max-Age`.
    ///   - generator: Randomness for the value.
    public static func generateCookie(
        name: String,
        path: String?,
        ttl: Duration,
        using generator: inout some RandomNumberGenerator
    ) -> GeneratedCookie {
        let digits = String(generator.next(), radix: 16)
        let value = String(repeating: "0", count: 16 - digits.count) + digits
        return GeneratedCookie(name: name, value: value, setCookie: setCookie(name: name, value: value, path: path, ttl: ttl))
    }

    /// `name=value; Path=path; Max-Age=seconds; HttpOnly`, leaving out `Path` when `path` is `nil` or
    /// empty and `Max-Age` when `ttl` is under one second.
    public static func setCookie(name: String, value: String, path: String?, ttl: Duration) -> String {
        var header = "\(name)=\(value)"
        if let path, !path.isEmpty { header += "; Path=\(path)" }
        let seconds = ttl.components.seconds
        if seconds > 0 { header += "; Max-Age=\(seconds)" }
        header += "; HttpOnly"
        return header
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingWhitespace: Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
