// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Logging
import ServiceLifecycle
import WeftIdentity

/// Re-issues each workload certificate at half its lifetime. New connections use the new certificate at once;
/// live connections are not disturbed.
struct CertificateRotationService: Service {
    let identities: IdentityManager
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let wait = max(0.2, (identities.nextRefresh ?? Date().addingTimeInterval(60)).timeIntervalSinceNow)
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .milliseconds(Int(min(wait, 3600) * 1000)))
                }
            } catch {
                return
            }
            do {
                for identity in try identities.rotateDue() {
                    let cert = identities.entries[identity]?.certificate
                    logger.info(
                        "certificate rotated",
                        metadata: [
                            "identity": "\(identity)", "serial": "\(cert?.serial ?? "-")",
                            "not_after": "\(cert.map { ISO8601DateFormatter().string(from: $0.notAfter) } ?? "-")",
                        ]
                    )
                }
            } catch {
                logger.error("certificate rotation failed; the current certificates stay in use", metadata: ["error": "\(error)"])
            }
        }
    }
}
