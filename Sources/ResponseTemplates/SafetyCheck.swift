import Foundation

/// The phrases a response may contain only when the case's facts allow them: admissions of
/// liability, promises of compensation and pledges of future conduct or written undertakings.
/// They are matched on a normalised form (NFKC, case-folded, without whitespace, apostrophes or
/// invisible format characters), so `全面的に 当社の 責任` or `ＷＥ  ＡＣＣＥＰＴ` do not slip through.
///
/// The list is built in and cannot be changed by an operator's template folder.
public struct SafetyCheck: Sendable {
    /// What a refused phrase would commit the company to.
    public enum Commitment: String, Sendable {
        case admissionOfLiability = "admits liability"
        case compensation = "promises compensation"
        case pledge = "pledges future conduct or a written undertaking"
    }

    /// One refused phrase and what it commits to.
    public struct Finding: Sendable, Equatable {
        public let phrase: String
        public let commitment: Commitment
    }

    /// The built-in lexicon, Japanese and English.
    public static let standard = SafetyCheck(entries: [
        // 全面的に当社の責任 "entirely our responsibility"; 責任を認め "(we) admit responsibility".
        ("全面的に当社の責任", .admissionOfLiability),
        ("すべて当社の責任", .admissionOfLiability),
        ("当社の責任です", .admissionOfLiability),
        ("当社に責任がございます", .admissionOfLiability),
        ("責任を認め", .admissionOfLiability),
        ("非を認め", .admissionOfLiability),
        ("過失を認め", .admissionOfLiability),
        ("一切の責任を負", .admissionOfLiability),
        // 当社のミス "our mistake", 当社の不手際 "our mishandling": right only for a confirmed fault.
        ("当社のミス", .admissionOfLiability),
        ("当社の不手際", .admissionOfLiability),
        ("当社の過失により", .admissionOfLiability),
        // 賠償いたします / 補償いたします "we will compensate"; 慰謝料 "damages for distress".
        ("賠償いたします", .compensation),
        ("賠償します", .compensation),
        ("賠償させていただ", .compensation),
        ("補償いたします", .compensation),
        ("補償します", .compensation),
        ("補償させていただ", .compensation),
        ("慰謝料をお支払い", .compensation),
        // 二度といたしません "it will never happen again"; 念書 / 詫び状 / 誓約書: written undertakings.
        ("二度といたしません", .pledge),
        ("二度と起こしません", .pledge),
        ("二度とこのようなことは", .pledge),
        ("誓約いたします", .pledge),
        ("念書", .pledge),
        ("詫び状", .pledge),
        ("誓約書", .pledge),
        ("we accept full responsibility", .admissionOfLiability),
        ("we take full responsibility", .admissionOfLiability),
        ("we accept responsibility", .admissionOfLiability),
        ("we admit liability", .admissionOfLiability),
        ("we accept liability", .admissionOfLiability),
        ("we are liable", .admissionOfLiability),
        ("we admit fault", .admissionOfLiability),
        ("our fault", .admissionOfLiability),
        ("our mistake", .admissionOfLiability),
        ("our error", .admissionOfLiability),
        ("we will compensate", .compensation),
        ("we'll compensate", .compensation),
        ("we will pay compensation", .compensation),
        ("we will pay damages", .compensation),
        ("it will never happen again", .pledge),
        ("this will never happen again", .pledge),
        ("will not happen again", .pledge),
        ("we guarantee", .pledge),
        ("letter of apology", .pledge),
        ("written undertaking", .pledge),
    ])

    private let entries: [(normalised: [UInt8], finding: Finding)]

    init(entries: [(String, Commitment)]) {
        self.entries = entries.map { (Array(Self.normalise($0.0).utf8), Finding(phrase: $0.0, commitment: $0.1)) }
    }

    /// Every refused phrase in `text`, in the order of the lexicon.
    public func findings(in text: String) -> [Finding] {
        let folded = Array(Self.normalise(text).utf8)
        return entries.filter { ByteSearch.contains(folded, $0.normalised) }.map(\.finding)
    }

    /// NFKC, case-folded, with whitespace, apostrophes and format characters (zero-width
    /// spaces, joiners) removed.
    static func normalise(_ text: String) -> String {
        // Most responses are ASCII, kana and kanji, which NFKC leaves as they are.
        let compatible =
            text.unicodeScalars.allSatisfy(isUnchangedByCompatibilityMapping) ? text : text.precomposedStringWithCompatibilityMapping
        let folded = compatible.lowercased()
        var scalars = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars where !isDropped(scalar) {
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// Whether NFKC leaves the scalar as it is, whatever surrounds it: ASCII, Japanese
    /// punctuation, kana without combining marks, the long-vowel mark and unified kanji.
    private static func isUnchangedByCompatibilityMapping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x80, 0x3001...0x3002, 0x300C...0x300F, 0x3041...0x3096, 0x30A1...0x30FC, 0x4E00...0x9FFF: true
        default: false
        }
    }

    /// Whether `normalise` drops the scalar. ASCII, kana and kanji are answered without the
    /// Unicode property tables (most of a response, and a look-up each otherwise).
    private static func isDropped(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x27: return true
        case 0x00..<0x80, 0x3041...0x9FFF: return false
        case 0x2018, 0x2019: return true
        default: return scalar.properties.isWhitespace || scalar.properties.generalCategory == .format
        }
    }
}
