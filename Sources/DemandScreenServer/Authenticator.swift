public import DemandScreenRPC
import SwiftASN1
import X509

/// Turns a call's credentials into a caller identity: bearer tokens, checked against the SHA-256
/// hashes in the configuration, and client certificates, whose subject names the role.
public struct Authenticator: Sendable {
    /// Which subject attribute of a client certificate holds the role name.
    public enum CertificateRoleAttribute: String, Sendable {
        case organizationalUnit = "OU"
        case commonName = "CN"
    }

    private let tokensByHash: [String: BearerToken.Entry]
    public let certificateRoleAttribute: CertificateRoleAttribute

    public init(tokens: [BearerToken.Entry], certificateRoleAttribute: CertificateRoleAttribute = .organizationalUnit) {
        self.tokensByHash = Dictionary(tokens.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })
        self.certificateRoleAttribute = certificateRoleAttribute
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
            guard let entry = tokensByHash[BearerToken.hash(token)] else {
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

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
