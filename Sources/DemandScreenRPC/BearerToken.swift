import Crypto

/// Bearer tokens: how they are made and how the daemon's configuration keeps them (only the
/// SHA-256 of a token is ever stored). Shared by the server, which checks them, and the CLI,
/// which makes them, so that a client never links the server.
public enum BearerToken {
    /// A new token: 32 random bytes as 64 hex digits, prefixed so that a leaked one is recognisable.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return "ds_" + hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The lower-case hex SHA-256 of a token, as the configuration stores it.
    public static func hash(_ token: String) -> String {
        hex(Array(SHA256.hash(data: Array(token.utf8))))
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }

    /// One configured token: its name, its role and the hash of its value.
    public struct Entry: Hashable, Sendable {
        /// Names the token's holder in logs and audit records.
        public var name: String
        /// What the holder may call.
        public var role: Role
        /// Lower-case hex SHA-256 of the token's UTF-8 bytes.
        public var sha256: String

        /// An entry for the token whose hash is `sha256` (hex, any case).
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

        /// The configuration form, `NAME:ROLE:SHA256HEX`.
        public var configurationValue: String { "\(name):\(role.rawValue):\(sha256)" }
    }
}

/// A configuration value that cannot be used, with what is wrong with it.
public struct ConfigurationValueError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
