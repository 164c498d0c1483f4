import ScreeningEngine
import Testing

@Suite struct PatternAutomatonTests {
    func matches(_ patterns: [String], in text: String) -> [String] {
        let automaton = PatternAutomaton(patterns: patterns.map { Array($0.utf8) })
        var found: [String] = []
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            automaton.forEachMatch(in: bytes) { match in
                found.append("\(patterns[match.pattern])@\(match.start)")
            }
        }
        return found
    }

    @Test func findsOverlappingAndNestedPatternsInOnePass() {
        #expect(matches(["he", "she", "his", "hers"], in: "ushers") == ["she@1", "he@2", "hers@2"])
    }

    @Test func findsMultibyteTerms() {
        let found = matches(["殺す", "虫を殺す"], in: "虫を殺すのは")
        #expect(found.sorted() == ["殺す@6", "虫を殺す@0"].sorted())
    }

    @Test func emptyPatternsAndTextFindNothing() {
        #expect(matches([""], in: "abc").isEmpty)
        #expect(matches(["abc"], in: "").isEmpty)
    }
}
