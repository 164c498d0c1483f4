import Crypto
public import Foundation
import SwiftASN1
public import X509

/// A private certificate authority for the embedded default and for tests: it issues the server
/// certificate for localhost and client certificates whose organizational unit names a role.
public struct DevelopmentCertificateAuthority: Sendable {
    public let certificate: Certificate
    private let key: Certificate.PrivateKey

    /// A new CA with a fresh key.
    public init(commonName: String = "DemandScreen development CA") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("DemandScreen")
            CommonName(commonName)
        }
        let now = Date()
        self.key = Certificate.PrivateKey(key)
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(key.publicKey))
            },
            issuerPrivateKey: .init(key))
    }

    /// The CA stored by `pem()`.
    public init(certificatePEM: String, keyPEM: String) throws {
        self.certificate = try Certificate(pemEncoded: certificatePEM)
        self.key = try Certificate.PrivateKey(pemEncoded: keyPEM)
    }

    /// The CA's certificate and key, PEM-encoded.
    public func pem() throws -> (certificate: String, key: String) {
        (try certificate.serializeAsPEM().pemString, try key.serializeAsPEM().pemString)
    }

    /// A server certificate for `dnsNames` and `ipAddresses`, with its PEM key.
    public func issueServerCertificate(
        dnsNames: [String] = ["localhost"],
        ipAddresses: [[UInt8]] = [[127, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]
    ) throws -> (certificate: String, key: String) {
        let names =
            dnsNames.map { GeneralName.dnsName($0) }
            + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        return try issue(
            subject: try DistinguishedName {
                OrganizationName("DemandScreen")
                CommonName(dnsNames.first ?? "localhost")
            },
            usage: .serverAuth,
            alternativeNames: names)
    }

    /// A client certificate naming `role` in its organizational unit and `name` in its common name,
    /// valid for `validity` (by default from an hour ago for 825 days; tests pass a past one).
    public func issueClientCertificate(
        role: String, name: String, validity: Range<Date>? = nil
    ) throws -> (certificate: String, key: String) {
        try issue(
            subject: try DistinguishedName {
                OrganizationName("DemandScreen")
                OrganizationalUnitName(role)
                CommonName(name)
            },
            usage: .clientAuth,
            alternativeNames: [],
            validity: validity)
    }

    private func issue(
        subject: DistinguishedName,
        usage: ExtendedKeyUsage.Usage,
        alternativeNames: [GeneralName],
        validity: Range<Date>? = nil
    ) throws -> (certificate: String, key: String) {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let validity = validity ?? now.addingTimeInterval(-3600)..<now.addingTimeInterval(825 * 86400)
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(leafKey.publicKey),
            notValidBefore: validity.lowerBound,
            notValidAfter: validity.upperBound,
            issuer: certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([usage])
                if !alternativeNames.isEmpty {
                    SubjectAlternativeNames(alternativeNames)
                }
            },
            issuerPrivateKey: key)
        return (try leaf.serializeAsPEM().pemString, leafKey.pemRepresentation)
    }
}
