// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

/// An error about certificates, keys or identities, written for an operator.
///
/// Equality compares only ``code``, so tests can assert which failure happened without matching prose
/// (the shape swift-certificates' `CertificateError` uses).
public struct IdentityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Hashable, Sendable {
            case caAlreadyExists, caNotFound, caUnreadable, caInvalid, fileWriteFailed
            case noCertificate, untrustedChain, expired, notYetValid, noSPIFFEIdentity
            case trustDomainMismatch, identityMismatch, issuanceFailed
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A CA already exists where `ca init` would write one.
        public static let caAlreadyExists = Code(.caAlreadyExists)
        /// No CA files at the given directory.
        public static let caNotFound = Code(.caNotFound)
        /// CA files exist but cannot be read (permissions, I/O).
        public static let caUnreadable = Code(.caUnreadable)
        /// CA files are not a valid P-256 CA certificate and matching key.
        public static let caInvalid = Code(.caInvalid)
        /// Writing a file failed.
        public static let fileWriteFailed = Code(.fileWriteFailed)
        /// The peer presented no certificate.
        public static let noCertificate = Code(.noCertificate)
        /// The chain does not lead to a trusted root, or a signature/constraint check failed.
        public static let untrustedChain = Code(.untrustedChain)
        /// The leaf (or an issuer) has expired.
        public static let expired = Code(.expired)
        /// The leaf (or an issuer) is not valid yet.
        public static let notYetValid = Code(.notYetValid)
        /// The leaf carries no single SPIFFE URI SAN.
        public static let noSPIFFEIdentity = Code(.noSPIFFEIdentity)
        /// The leaf's SPIFFE ID is in another trust domain.
        public static let trustDomainMismatch = Code(.trustDomainMismatch)
        /// The leaf's SPIFFE ID is not one the caller expected.
        public static let identityMismatch = Code(.identityMismatch)
        /// Creating a key or signing a certificate failed.
        public static let issuanceFailed = Code(.issuanceFailed)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    public static func == (lhs: IdentityError, rhs: IdentityError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
