import DemandScreenRPC
import DemandScreenServer
import EmbeddedDefaults
import Foundation

/// The files the embedded default keeps in its data folder: created on first start, reused after.
struct DevelopmentSite {
    let directory: String

    func path(_ file: String) -> String { EmbeddedDefaults.path(file, in: directory) }

    /// Creates the data folder (mode 0700) if it does not exist.
    func prepareDirectory() throws(DaemonError) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DaemonError("cannot create the data folder \(directory): \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw DaemonError("the data folder \(directory) is not writable")
        }
    }

    /// The development CA and a server certificate for localhost, made if missing.
    /// Returns whether anything was created.
    func ensureCertificates() throws(DaemonError) -> Bool {
        let caPath = path(EmbeddedDefaults.File.certificateAuthority)
        let caKeyPath = path(EmbeddedDefaults.File.certificateAuthorityKey)
        let serverPath = path(EmbeddedDefaults.File.serverCertificate)
        let serverKeyPath = path(EmbeddedDefaults.File.serverKey)
        let manager = FileManager.default
        do {
            var created = false
            let authority: DevelopmentCertificateAuthority
            if manager.fileExists(atPath: caPath) && manager.fileExists(atPath: caKeyPath) {
                authority = try DevelopmentCertificateAuthority(
                    certificatePEM: try String(contentsOfFile: caPath, encoding: .utf8),
                    keyPEM: try String(contentsOfFile: caKeyPath, encoding: .utf8))
            } else {
                authority = try DevelopmentCertificateAuthority()
                let pem = try authority.pem()
                try write(pem.key, to: caKeyPath, mode: 0o600)
                try write(pem.certificate, to: caPath, mode: 0o644)
                try? manager.removeItem(atPath: serverPath)
                created = true
            }
            if !manager.fileExists(atPath: serverPath) || !manager.fileExists(atPath: serverKeyPath) {
                let server = try authority.issueServerCertificate()
                try write(server.key, to: serverKeyPath, mode: 0o600)
                try write(server.certificate, to: serverPath, mode: 0o644)
                created = true
            }
            return created
        } catch let error as DaemonError {
            throw error
        } catch {
            throw DaemonError("cannot set up the development certificates in \(directory): \(error)")
        }
    }

    /// The agent and security tokens, made if missing; returns their entries for the authenticator.
    func ensureTokens() throws(DaemonError) -> [BearerToken.Entry] {
        var entries: [BearerToken.Entry] = []
        for (file, role) in [(EmbeddedDefaults.File.agentToken, Role.agent), (EmbeddedDefaults.File.securityToken, .security)] {
            let tokenPath = path(file)
            var token = (try? String(contentsOfFile: tokenPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if token?.isEmpty ?? true {
                let newToken = BearerToken.generate()
                do {
                    try write(newToken + "\n", to: tokenPath, mode: 0o600)
                } catch {
                    throw DaemonError("cannot write \(tokenPath): \(error)")
                }
                token = newToken
            }
            entries.append(.init(name: "dev-\(role.rawValue)", role: role, sha256: BearerToken.hash(token!)))
        }
        return entries
    }

    private func write(_ text: String, to path: String, mode: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw DaemonError("cannot write \(path)")
        }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
