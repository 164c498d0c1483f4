public import DemandScreenAPI

/// Masks personal data in what is stored: e-mail addresses, and phone or card numbers (runs of
/// ten or more digits, ASCII or full-width, with the separators people put in them). Every
/// masked character becomes `*`, one for one, so evidence offsets still point at the right place.
public enum PersonalDataMasker {
    static let mask: Unicode.Scalar = "*"
    static let minimumDigits = 10

    /// `text` with its personal data masked.
    public static func mask(_ text: String) -> String {
        guard mayHoldPersonalData(text) else { return text }
        var scalars = Array(text.unicodeScalars)
        var changed = maskEmailAddresses(&scalars)
        changed = maskLongNumbers(&scalars) || changed
        guard changed else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Whether `text` could hold anything to mask: an at sign, or ten digits in all (ASCII or
    /// full-width). Most texts hold neither, and are returned as they are without being taken
    /// apart into scalars: this ran on every stored utterance and excerpt.
    static func mayHoldPersonalData(_ text: String) -> Bool {
        var digits = 0
        var twoBack: UInt8 = 0
        var oneBack: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "@") { return true }
            if byte &- 0x30 < 10 {
                digits += 1
            } else if twoBack == 0xEF && oneBack == 0xBC {  // U+FF00...U+FF3F
                if byte == 0xA0 { return true }  // ＠
                if byte &- 0x90 < 10 { digits += 1 }  // ０...９
            }
            if digits >= minimumDigits { return true }
            twoBack = oneBack
            oneBack = byte
        }
        return false
    }

    /// The record as it is stored: transcript, incident description and demand texts masked.
    public static func mask(_ record: DemandRecord) -> DemandRecord {
        var record = record
        for index in record.utterances.indices { record.utterances[index].text = mask(record.utterances[index].text) }
        record.incident.description_p = mask(record.incident.description_p)
        for index in record.demands.indices { record.demands[index].text = mask(record.demands[index].text) }
        return record
    }

    /// Whether any evidence excerpt of `result` could hold personal data: when none can, the
    /// result is stored as it is.
    public static func needsMasking(_ result: ScreeningResult) -> Bool {
        result.signals.contains { signal in signal.evidence.contains { mayHoldPersonalData($0.excerpt) } }
    }

    /// The result as it is stored: evidence excerpts masked.
    public static func mask(_ result: ScreeningResult) -> ScreeningResult {
        var result = result
        for signal in result.signals.indices {
            for evidence in result.signals[signal].evidence.indices {
                result.signals[signal].evidence[evidence].excerpt = mask(result.signals[signal].evidence[evidence].excerpt)
            }
        }
        return result
    }

    private static func isLocalPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._%+-".unicodeScalars.contains(scalar))
    }

    private static func isDomainPart(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "-")
    }

    private static func maskEmailAddresses(_ scalars: inout [Unicode.Scalar]) -> Bool {
        var changed = false
        for at in scalars.indices where scalars[at] == "@" || scalars[at] == "＠" {
            var start = at
            while start > 0, isLocalPart(scalars[start - 1]) { start -= 1 }
            var end = at + 1
            while end < scalars.count, isDomainPart(scalars[end]) { end += 1 }
            let domain = scalars[(at + 1)..<end]
            guard start < at, domain.contains("."), domain.first != "." else { continue }
            for index in start..<end where index != at { scalars[index] = mask }
            changed = true
        }
        return changed
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar) || ("０"..."９").contains(scalar)
    }

    private static func isNumberSeparator(_ scalar: Unicode.Scalar) -> Bool {
        " -()‐－（）ー+＋".unicodeScalars.contains(scalar)
    }

    private static func maskLongNumbers(_ scalars: inout [Unicode.Scalar]) -> Bool {
        var changed = false
        var index = 0
        while index < scalars.count {
            guard isDigit(scalars[index]) else {
                index += 1
                continue
            }
            var end = index
            var digits = 0
            var lastDigit = index
            while end < scalars.count, isDigit(scalars[end]) || isNumberSeparator(scalars[end]) {
                if isDigit(scalars[end]) {
                    digits += 1
                    lastDigit = end
                }
                end += 1
            }
            if digits >= minimumDigits {
                for position in index...lastDigit where isDigit(scalars[position]) { scalars[position] = mask }
                changed = true
            }
            index = lastDigit + 1
        }
        return changed
    }
}
