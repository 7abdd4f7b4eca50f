// TEMPORARY until WeftCluster lands.
enum RetryBackoff {
    static func delay(forRetry n: Int, base: Duration = .milliseconds(25), using generator: inout some RandomNumberGenerator) -> Duration {
        let baseNs = base.components.seconds * 1_000_000_000 + base.components.attoseconds / 1_000_000_000
        let ceiling = min(baseNs * ((1 << Int64(min(max(n, 1), 20))) - 1), baseNs * 10)
        return .nanoseconds(Int64.random(in: 0..<max(ceiling, 1), using: &generator))
    }
}
