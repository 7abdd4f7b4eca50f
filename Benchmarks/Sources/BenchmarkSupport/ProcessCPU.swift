// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Benchmark

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BenchmarkMetric {
    /// CPU time of the whole process (every thread, user + system), read from `CLOCK_PROCESS_CPUTIME_ID` around
    /// the measured work, in microseconds.
    ///
    /// The harness's own `cpuTotal`/`cpuUser`/`cpuSystem` come from `/proc` in scheduler ticks (10 ms on this
    /// machine), so an iteration shorter than a few ticks reads as 0 or 10 000 µs; this clock has nanosecond
    /// resolution. Like the built-in metrics it is scaled by the scaling factor (per operation, marked `*`).
    public static let processCPU = BenchmarkMetric.custom(
        "CPU time, process (μs)", polarity: .prefersSmaller, useScalingFactor: true)

    /// The metrics every Weft benchmark reports: wall clock, process CPU, allocations, throughput, peak RSS.
    public static let weftDefault: [BenchmarkMetric] = [
        .wallClock, .processCPU, .mallocCountTotal, .mallocBytesCount, .throughput, .peakMemoryResident,
    ]
}

/// Process CPU time since it was started; `record(in:)` adds it to the benchmark as ``BenchmarkMetric/processCPU``.
public struct CPUStopwatch: Sendable {
    private let start: Int

    public init() { start = Self.nanoseconds() }

    /// Nanoseconds of CPU the process has used since it started.
    public static func nanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Int(time.tv_sec) * 1_000_000_000 + Int(time.tv_nsec)
    }

    /// Records the CPU time used since ``init()``, in microseconds.
    public func record(in benchmark: Benchmark) {
        benchmark.measurement(.processCPU, (Self.nanoseconds() - start) / 1_000)
    }
}

extension Benchmark.Configuration {
    /// A configuration with ``BenchmarkMetric/weftDefault`` metrics and the process CPU shown in plain µs.
    public static func weft(
        timeUnits: BenchmarkTimeUnits,
        warmupIterations: Int = 1,
        scalingFactor: BenchmarkScalingFactor = .one,
        maxDuration: Duration,
        maxIterations: Int
    ) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: BenchmarkMetric.weftDefault,
            timeUnits: timeUnits,
            units: [.processCPU: .count],
            warmupIterations: warmupIterations,
            scalingFactor: scalingFactor,
            maxDuration: maxDuration,
            maxIterations: maxIterations
        )
    }
}

/// A setup or consistency check that failed; the message says what was expected and what was seen.
public struct BenchmarkCheckFailed: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
