// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

extension Duration {
    /// The duration in whole nanoseconds, truncated toward zero and clamped to `Int64` (about 292 years),
    /// so arithmetic on configured durations can neither trap nor wrap.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let total = Int128(seconds) * 1_000_000_000 + Int128(attoseconds / 1_000_000_000)
        return Int64(clamping: total)
    }

    /// ``wholeNanoseconds``, with negative durations counted as zero.
    var nonNegativeNanoseconds: UInt64 {
        UInt64(max(0, wholeNanoseconds))
    }
}
