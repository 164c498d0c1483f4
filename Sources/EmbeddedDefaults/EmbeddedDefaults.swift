public import Foundation

/// The single-site default that `demandscreend` runs on with no arguments, and where the
/// `demandscreen` CLI run by the same user finds it: address, data folder and the files in it.
public enum EmbeddedDefaults {
    public static let host = "127.0.0.1"
    public static let port = 7443

    /// Files the daemon creates in its data folder on first start.
    public enum File {
        /// The development CA certificate: what clients trust, and what issues client certificates.
        public static let certificateAuthority = "dev-ca.pem"
        public static let certificateAuthorityKey = "dev-ca-key.pem"
        /// The server certificate for localhost, 127.0.0.1 and ::1, issued by the development CA.
        public static let serverCertificate = "server.pem"
        public static let serverKey = "server-key.pem"
        public static let agentToken = "agent.token"
        public static let securityToken = "security.token"
        /// The SQLite history: every contact, flags and notes.
        public static let database = "demandscreen.sqlite"
    }

    /// `$DEMANDSCREEN_DATA_DIRECTORY`, else `$XDG_DATA_HOME/demandscreen`, else
    /// `~/.local/share/demandscreen`.
    public static func dataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment["DEMANDSCREEN_DATA_DIRECTORY"], !configured.isEmpty {
            return configured
        }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return (xdg as NSString).appendingPathComponent("demandscreen")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/demandscreen")
    }

    /// The path of `file` in `directory`.
    public static func path(_ file: String, in directory: String) -> String {
        (directory as NSString).appendingPathComponent(file)
    }
}
