import Crypto
public import DemandScreenWire
import SwiftASN1
import X509

/// Turns a call's credentials into a caller identity: bearer tokens, checked against the SHA-256
/// hashes in the configuration, and client certificates, whose subject names the role.
public struct Authenticator: Sendable {
    /// One configured token: only its hash is kept.
    public struct TokenEntry: Hashable, Sendable {
        public var name: String
        public var role: Role
        /// Lower-case hex SHA-256 of the token's UTF-8 bytes.
        public var sha256: String

        public init(name: String, role: Role, sha256: String) {
            self.name = name
            self.role = role
            self.sha256 = sha256.lowercased()
        }

        /// Parses the configuration form `NAME:ROLE:SHA256HEX`.
        public init(configurationValue value: String) throws(ConfigurationValueError) {
            let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else {
                throw ConfigurationValueError("token entry must be NAME:ROLE:SHA256HEX, got \(parts.count) field(s)")
            }
            guard !parts[0].isEmpty else { throw ConfigurationValueError("token entry has an empty name") }
            guard let role = Role(rawValue: parts[1]) else {
                throw ConfigurationValueError(
                    "token entry '\(parts[0])' has unknown role '\(parts[1])' (expected agent, security or ops)")
            }
            let hash = parts[2].lowercased()
            guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                throw ConfigurationValueError("token entry '\(parts[0])' must end in 64 hex digits of SHA-256")
            }
            self.init(name: parts[0], role: role, sha256: hash)
        }
    }

    /// Which subject attribute of a client certificate holds the role name.
    public enum CertificateRoleAttribute: String, Sendable {
        case organizationalUnit = "OU"
        case commonName = "CN"
    }

    private let tokensByHash: [String: TokenEntry]
    public let certificateRoleAttribute: CertificateRoleAttribute

    public init(tokens: [TokenEntry], certificateRoleAttribute: CertificateRoleAttribute = .organizationalUnit) {
        self.tokensByHash = Dictionary(tokens.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })
        self.certificateRoleAttribute = certificateRoleAttribute
    }

    /// A new token: 32 random bytes as 64 hex digits, prefixed so that a leaked one is recognisable.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return "ds_" + hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The lower-case hex SHA-256 of a token, as the configuration stores it.
    public static func hash(token: String) -> String {
        hex(Array(SHA256.hash(data: Array(token.utf8))))
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }

    /// The identity behind a call: its `authorization` metadata if present, else the connection's
    /// verified client certificate.
    public func identify(authorization: String?, certificateIdentity: CallerIdentity?) throws(CallError) -> CallerIdentity {
        if let authorization {
            let prefix = "bearer "
            guard authorization.count > prefix.count, authorization.lowercased().hasPrefix(prefix) else {
                throw CallError(.unauthenticated, "authorization metadata must be 'Bearer <token>'")
            }
            let token = String(authorization.dropFirst(prefix.count)).trimmingWhitespace()
            guard let entry = tokensByHash[Self.hash(token: token)] else {
                throw CallError(.unauthenticated, "the bearer token is not known to this server")
            }
            return CallerIdentity(name: entry.name, role: entry.role, credential: .bearerToken)
        }
        if let certificateIdentity {
            return certificateIdentity
        }
        throw CallError(.unauthenticated, "no credential: send 'authorization: Bearer <token>' or a client certificate")
    }

    /// The identity a verified client certificate proves, or nil when its subject names no role.
    public func identity(certificateDER: [UInt8]) -> CallerIdentity? {
        guard let certificate = try? Certificate(derEncoded: certificateDER) else { return nil }
        var commonName: String?
        var roleValue: String?
        for relativeName in certificate.subject {
            for attribute in relativeName {
                let value = String(attribute.value)
                if attribute.type == .RDNAttributeType.commonName { commonName = value }
                let wanted: ASN1ObjectIdentifier =
                    switch certificateRoleAttribute {
                    case .organizationalUnit: .RDNAttributeType.organizationalUnitName
                    case .commonName: .RDNAttributeType.commonName
                    }
                if attribute.type == wanted { roleValue = value }
            }
        }
        guard let roleValue, let role = Role(rawValue: roleValue) else { return nil }
        return CallerIdentity(name: commonName ?? roleValue, role: role, credential: .clientCertificate)
    }
}

/// A configuration value that cannot be used, with what is wrong with it.
public struct ConfigurationValueError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
