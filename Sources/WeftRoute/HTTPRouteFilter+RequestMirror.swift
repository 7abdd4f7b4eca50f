// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension HTTPRouteFilter {
    /// Gateway API's `HTTPRequestMirrorFilter`: a share of the requests is also sent to one endpoint of
    /// another backend, and that response is discarded. A rule may mirror to several backends.
    public struct RequestMirror: Hashable, Sendable {
        /// How many requests are mirrored.
        public enum Portion: Hashable, Sendable {
            /// Every request (neither `percent` nor `fraction` set).
            case all
            /// `percent`, 0–100.
            case percent(Int)
            /// `fraction`: numerator / denominator (denominator 100 unless set).
            case fraction(numerator: Int, denominator: Int)
        }

        /// `backendRef`.
        public var backend: BackendObjectReference
        /// `percent` or `fraction`.
        public var portion: Portion

        /// Creates a mirror, of every request by default.
        public init(backend: BackendObjectReference, portion: Portion = .all) {
            self.backend = backend
            self.portion = portion
        }

        /// The portion as numerator / denominator.
        public var ratio: (numerator: Int, denominator: Int) {
            switch portion {
            case .all: return (1, 1)
            case .percent(let percent): return (percent, 100)
            case .fraction(let numerator, let denominator): return (numerator, denominator)
            }
        }

        /// Whether the request drawing `draw` (a uniformly random 64-bit value) is mirrored.
        ///
        /// The draw is scaled to `0..<denominator` and mirrored when below the numerator, so exactly
        /// numerator/denominator of the draw space is mirrored; 0 never mirrors, a full share always does.
        public func isMirrored(draw: UInt64) -> Bool {
            let (numerator, denominator) = ratio
            guard numerator > 0, denominator > 0 else { return false }
            if numerator >= denominator { return true }
            return draw.multipliedFullWidth(by: UInt64(denominator)).high < UInt64(numerator)
        }

        /// Whether the next request is mirrored, drawing from `generator`.
        public func isMirrored(using generator: inout some RandomNumberGenerator) -> Bool {
            isMirrored(draw: generator.next())
        }
    }
}
