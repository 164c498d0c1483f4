import Crypto
import DemandScreenAPI
import Foundation

/// A position in `ListRiskFlags`: the last claimant of the page (keyset pagination, so pages do
/// not shift when new flags arrive), sealed with the filter it belongs to and an HMAC. Tokens
/// are not secrets (only security staff see them); the seal makes a tampered token or one from
/// another query a clear INVALID_ARGUMENT instead of a wrong page.
struct PageToken {
    var lastFlagAt: Int64
    var claimantID: String
    /// The window's start, fixed at the first page so that later pages do not slide.
    var since: Int64
    var filter: String

    private static let keyBytes = Data("demandscreen.v1.ListRiskFlags page token".utf8)

    init(lastFlagAt: Int64, claimantID: String, since: Int64, request: ListRiskFlagsRequest) {
        self.lastFlagAt = lastFlagAt
        self.claimantID = claimantID
        self.since = since
        filter = Self.filter(of: request)
    }

    init(decoding token: String, for request: ListRiskFlagsRequest) throws(StoreRequestError) {
        let invalid = StoreRequestError(.invalidArgument, field: "page_token", "is not a token this server issued")
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), data.count > 16 else { throw invalid }
        let payload = data.prefix(data.count - 16)
        guard Data(Self.seal(payload)) == data.suffix(16) else { throw invalid }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 5, fields[0] == "1", let lastFlagAt = Int64(fields[1]), let since = Int64(fields[3]) else {
            throw invalid
        }
        guard fields[4] == Self.filter(of: request) else {
            throw StoreRequestError(
                .invalidArgument, field: "page_token",
                "belongs to a query with other filters; send the same min_risk_level and since_unix_ms as for the first page")
        }
        self.lastFlagAt = lastFlagAt
        self.claimantID = fields[2]
        self.since = since
        self.filter = fields[4]
    }

    func encoded() -> String {
        let payload = Data(["1", String(lastFlagAt), claimantID, String(since), filter].joined(separator: "\n").utf8)
        return (payload + Self.seal(payload)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func filter(of request: ListRiskFlagsRequest) -> String {
        "\(request.minRiskLevel.rawValue)/\(request.sinceUnixMs)"
    }

    private static func seal(_ payload: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: keyBytes)).prefix(16))
    }
}
