/// What a caller may do. Each method names the roles it admits.
public enum Role: String, CaseIterable, Hashable, Sendable {
    /// A call-center agent or platform: may screen records.
    case agent
    /// Security staff: may screen and query claimants' risk.
    case security
    /// Operations: health and metrics only.
    case ops
}

/// Who is calling, as proved by a bearer token or a client certificate.
public struct CallerIdentity: Hashable, Sendable, CustomStringConvertible {
    /// How the caller proved who it is.
    public enum Credential: String, Hashable, Sendable {
        case bearerToken = "token"
        case clientCertificate = "certificate"
    }

    /// The configured name of the token, or the certificate's subject common name.
    public var name: String
    public var role: Role
    public var credential: Credential

    public init(name: String, role: Role, credential: Credential) {
        self.name = name
        self.role = role
        self.credential = credential
    }

    public var description: String { "\(role.rawValue):\(name) (\(credential.rawValue))" }
}
