import ScreeningEngine
import Testing

/// What is masked before a transcript is stored, and what is left alone.
@Suite struct PersonalDataMaskerTests {
    @Test(arguments: [
        ("電話は090-1234-5678です", "電話は***-****-****です"),
        ("０３（１２３４）５６７８まで", "**（****）****まで"),
        ("mail me at jane.doe+x@example.co.uk now", "mail me at **********@************* now"),
        ("card 4111 1111 1111 1111 please", "card **** **** **** **** please"),
        ("連絡先はjane＠example.jp", "連絡先は****＠**********"),
    ])
    func personalDataIsMaskedOneForOne(text: String, masked: String) {
        #expect(PersonalDataMasker.mask(text) == masked)
        #expect(PersonalDataMasker.mask(text).unicodeScalars.count == text.unicodeScalars.count)
    }

    @Test(arguments: [
        "5万円払え", "注文番号 12345 の件", "¥50,000 を返金して", "@everyone look", "2026-12-01 に届いた",
        "12345 と 67890 の二件",  // ten digits, but in two runs: looked at, and left alone
    ])
    func ordinaryTextIsLeftAlone(text: String) {
        #expect(PersonalDataMasker.mask(text) == text)
    }
}
