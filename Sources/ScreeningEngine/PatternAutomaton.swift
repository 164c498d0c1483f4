/// An Aho–Corasick automaton over UTF-8 bytes, compiled to a dense DFA over byte classes, that
/// finds every occurrence of every pattern (overlaps included) in one pass over the text.
///
/// Built once per policy; scanning allocates nothing but the matches it reports.
public struct PatternAutomaton: Sendable {
    /// One occurrence: the pattern's index and the half-open byte range it covers.
    public struct Match: Hashable, Sendable {
        public var pattern: Int
        public var start: Int
        public var end: Int
    }

    /// Byte → class; class 0 is every byte that occurs in no pattern.
    private let byteClass: [UInt8]
    private let classCount: Int
    /// The DFA: `transitions[row + class]`, where a state's row is `state * classCount`. Each
    /// entry is the next state's row, bitwise negated (so negative) when that state reports
    /// matches, which keeps the scan to one load and one sign test per byte.
    private let transitions: [Int32]
    /// For each state, the range of `outputs` it reports (its own patterns and its suffixes').
    private let outputStart: [Int32]
    private let outputEnd: [Int32]
    private let outputs: [Int32]
    private let patternLengths: [Int]

    /// Compiles the patterns; an empty pattern never matches.
    public init(patterns: [[UInt8]]) {
        // Byte classes: one per distinct byte used, 0 for the rest.
        var classOf = [UInt8](repeating: 0, count: 256)
        var nextClass = 1
        for pattern in patterns {
            for byte in pattern where classOf[Int(byte)] == 0 {
                precondition(nextClass < 256)
                classOf[Int(byte)] = UInt8(nextClass)
                nextClass += 1
            }
        }
        let classCount = nextClass
        // The trie, with sparse children while building.
        var children: [[Int: Int32]] = [[:]]
        var own: [[Int32]] = [[]]
        for (index, pattern) in patterns.enumerated() where !pattern.isEmpty {
            var state = 0
            for byte in pattern {
                let symbol = Int(classOf[Int(byte)])
                if let next = children[state][symbol] {
                    state = Int(next)
                } else {
                    children.append([:])
                    own.append([])
                    let next = Int32(children.count - 1)
                    children[state][symbol] = next
                    state = Int(next)
                }
            }
            own[state].append(Int32(index))
        }
        // Breadth-first: failure links, then the dense table and merged outputs.
        let stateCount = children.count
        var transitions = [Int32](repeating: 0, count: stateCount * classCount)
        var failure = [Int32](repeating: 0, count: stateCount)
        var merged: [[Int32]] = own
        var queue: [Int] = []
        queue.reserveCapacity(stateCount)
        for symbol in 1..<max(classCount, 1) {
            if let child = children[0][symbol] {
                transitions[symbol] = child
                queue.append(Int(child))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            let fail = Int(failure[state])
            merged[state] += merged[fail]
            for symbol in 0..<classCount {
                if let child = children[state][symbol] {
                    failure[Int(child)] = transitions[fail * classCount + symbol]
                    transitions[state * classCount + symbol] = child
                    queue.append(Int(child))
                } else {
                    transitions[state * classCount + symbol] = transitions[fail * classCount + symbol]
                }
            }
        }
        var outputStart = [Int32](repeating: 0, count: stateCount)
        var outputEnd = [Int32](repeating: 0, count: stateCount)
        var outputs: [Int32] = []
        for state in 0..<stateCount {
            outputStart[state] = Int32(outputs.count)
            outputs += merged[state]
            outputEnd[state] = Int32(outputs.count)
        }
        precondition(stateCount * classCount < Int(Int32.max), "the policy's automaton is too large")
        self.byteClass = classOf
        self.classCount = classCount
        self.transitions = transitions.map { next in
            let row = next &* Int32(classCount)
            return outputStart[Int(next)] == outputEnd[Int(next)] ? row : ~row
        }
        self.outputStart = outputStart
        self.outputEnd = outputEnd
        self.outputs = outputs
        self.patternLengths = patterns.map(\.count)
    }

    /// Calls `body` for every occurrence, in order of where it ends.
    public func forEachMatch(in text: UnsafeBufferPointer<UInt8>, _ body: (Match) -> Void) {
        var row = 0
        transitions.withUnsafeBufferPointer { table in
            byteClass.withUnsafeBufferPointer { classes in
                for position in 0..<text.count {
                    let next = Int(table[row &+ Int(classes[Int(text[position])])])
                    guard next < 0 else {
                        row = next
                        continue
                    }
                    row = ~next
                    let state = row / classCount
                    for slot in Int(outputStart[state])..<Int(outputEnd[state]) {
                        let pattern = Int(outputs[slot])
                        body(Match(pattern: pattern, start: position + 1 - patternLengths[pattern], end: position + 1))
                    }
                }
            }
        }
    }
}
