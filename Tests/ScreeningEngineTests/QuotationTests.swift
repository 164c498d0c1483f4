import Testing

@testable import ScreeningEngine

/// Quotation marks found on the bytes: Japanese brackets and double quotes always pair; a single
/// quote pairs only where it cannot be an apostrophe.
@Suite struct QuotationTests {
    /// The quoted stretches of `text`, as text.
    func quoted(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return UtteranceAnalysis.quotationRanges(in: text).map { String(String.UnicodeScalarView(scalars[$0.range])) }
    }

    @Test(arguments: [
        ("He told me 'I know where you live' and laughed.", ["'I know where you live'"]),
        ("'first' and last", ["'first'"]),
        ("at the end: 'last'", ["'last'"]),
        ("She said ‘don’t worry’ twice", ["‘don’t worry’"]),
        ("'not my job' 🙄 and then", ["'not my job'"]),
        ("line one 'a quote'\r\nline two", ["'a quote'"]),
        ("「次は殺すぞ」って言われた", ["「次は殺すぞ」"]),
        ("He wrote \"I'll be back\" on it", ["\"I'll be back\""]),
        ("She said 'café olé' to me", ["'café olé'"]),
        ("He yelled 'Get out of the road or I'll run you over.' Then he left.", ["'Get out of the road or I'll run you over.'"]),
    ])
    func quotationsAreFound(text: String, expected: [String]) {
        #expect(quoted(text) == expected, "\(text)")
    }

    @Test(arguments: [
        "I don't know why the customers' money is gone",
        "'cause you lied, and your employees' cars are in my way",
        "It was the '90s, and the managers' office said no",
        "Rock 'n' roll",
        "l'été was hot",
        "Don’t tell me the drivers’ union agreed",
        "I said 'wait. Then nothing happened' again",
        "'",
        "x'",
    ])
    func apostrophesQuoteNothing(text: String) {
        #expect(quoted(text).isEmpty, "\(text): \(quoted(text))")
    }
}
