import DemandScreenAPI
import Foundation
import SwiftProtobuf

/// Reads a `DemandRecord` from protobuf JSON and, when it cannot, says where: swift-protobuf's
/// errors name no field or position ("unrecognizedEnumValue", "failure"), so the record is taken
/// apart and each part decoded alone until the smallest part that fails is found.
enum RecordJSON {
    static func decode(_ json: String) throws(RecordJSONError) -> DemandRecord {
        do {
            return try DemandRecord(jsonString: json)
        } catch {
            throw RecordJSONError(locating: error, in: json)
        }
    }
}

/// What is wrong with a record's JSON and where, e.g. `utterances[1].speaker: "SPEAKER_BOSS" is
/// not one of the field's values`.
struct RecordJSONError: Error, CustomStringConvertible {
    let description: String

    /// A step into a JSON document: an object's key or an array's index.
    private enum Step {
        case key(String)
        case index(Int)
    }

    init(locating error: any Error, in json: String) {
        let document: Any
        do {
            document = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        } catch {
            let reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            description = "not JSON: \(reason)"
            return
        }
        guard document is [String: Any] else {
            description = "not a DemandRecord: a record is a JSON object ({\"recordId\": …})"
            return
        }
        let (path, value, cause) = Self.narrow(document, at: [], failing: error)
        let place = Self.render(path)
        switch cause {
        case JSONDecodingError.unrecognizedEnumValue:
            description = "\(place): \(Self.render(value)) is not one of the field's values"
        case JSONDecodingError.unknownField(let name):
            // The unknown key is the last step: the place is the object that has it.
            description = "\(Self.render(path.dropLast())): there is no field '\(name)'"
        default:
            description = "\(place): \(Self.render(value)) is not valid here (\(cause))"
        }
    }

    /// The deepest part of `value` (found at `path`) that fails to decode alone, with its error.
    private static func narrow(_ value: Any, at path: [Step], failing error: any Error) -> ([Step], Any, any Error) {
        // An unknown key is the fault, whatever its value holds.
        if case JSONDecodingError.unknownField(let name) = error, case .key(name)? = path.last { return (path, value, error) }
        var children: [(Step, Any)] = []
        if let object = value as? [String: Any] {
            children = object.keys.sorted().map { (.key($0), object[$0]!) }
        } else if let array = value as? [Any] {
            children = array.enumerated().map { (.index($0.offset), $0.element) }
        }
        for (step, child) in children {
            if let childError = decodingError(of: child, at: path + [step]) {
                return narrow(child, at: path + [step], failing: childError)
            }
        }
        return (path, value, error)
    }

    /// The error of decoding a record that holds only `value` at `path` (an array element as the
    /// only element of its array); nil when it decodes.
    private static func decodingError(of value: Any, at path: [Step]) -> (any Error)? {
        let document = path.reversed().reduce(value) { inner, step -> Any in
            switch step {
            case .key(let key): [key: inner]
            case .index: [inner]
            }
        }
        do {
            _ = try DemandRecord(jsonUTF8Data: try JSONSerialization.data(withJSONObject: document))
            return nil
        } catch {
            return error
        }
    }

    /// `utterances[1].speaker`; "the record" for the whole.
    private static func render(_ path: some Collection<Step>) -> String {
        guard !path.isEmpty else { return "the record" }
        var text = ""
        for step in path {
            switch step {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// The value as JSON, shortened past 60 characters.
    private static func render(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed) else { return "the value" }
        let text = String(decoding: data, as: UTF8.self)
        return text.count > 60 ? text.prefix(57) + "…" : text
    }
}
