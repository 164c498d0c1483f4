public import SwiftProtobuf
import Synchronization

/// An enum of the contract whose values are read and written by their .proto names
/// ("SIGNAL_THREAT_VIOLENCE"), as in policy files, labels and CLI flags.
///
/// swift-protobuf names a case by camel-casing the value's name, dropping the prefix where it
/// equals the enum's own name (VERDICT_UNJUST_DEMAND → `unjustDemand`, but
/// SIGNAL_THREAT_VIOLENCE → `signalThreatViolence`); this reverses that. A test checks every
/// value against the JSON mapping.
public protocol ProtoNamedEnum: SwiftProtobuf.Enum, CaseIterable {
    /// The prefix every value's .proto name starts with, e.g. "SIGNAL_".
    static var protoPrefix: String { get }
}

extension ProtoNamedEnum {
    /// The value's .proto name, e.g. "VERDICT_UNJUST_DEMAND": worked out once per enum for all
    /// its cases (by reflection, too slow for every call's metrics and labels), and every time for
    /// a value this build does not know (not kept: a client chooses those).
    public var protoName: String {
        let type = ObjectIdentifier(Self.self)
        let names =
            knownProtoNames.withLock { $0[type] }
            ?? {
                let names = Dictionary(uniqueKeysWithValues: Self.allCases.map { ($0.rawValue, $0.reflectedProtoName) })
                knownProtoNames.withLock { $0[type] = names }
                return names
            }()
        return names[rawValue] ?? reflectedProtoName
    }

    private var reflectedProtoName: String {
        var name = ""
        for character in String(describing: self) {
            if character.isUppercase && !name.isEmpty {
                name.append("_")
            }
            name.append(contentsOf: character.uppercased())
        }
        // swift-protobuf strips the prefix only where it equals the enum's own name.
        return name.hasPrefix(Self.protoPrefix) ? name : Self.protoPrefix + name
    }

    /// The value with this .proto name, or nil.
    public init?(protoName: String) {
        guard let value = Self.allCases.first(where: { $0.protoName == protoName }) else { return nil }
        self = value
    }

    /// Every valid name, for error messages.
    public static var protoNames: [String] { allCases.map(\.protoName) }
}

/// The .proto names of each `ProtoNamedEnum`'s cases by raw value, by enum type.
private let knownProtoNames = Mutex<[ObjectIdentifier: [Int: String]]>([:])

extension Demandscreen_V1_Channel: ProtoNamedEnum { public static var protoPrefix: String { "CHANNEL_" } }
extension Demandscreen_V1_Speaker: ProtoNamedEnum { public static var protoPrefix: String { "SPEAKER_" } }
extension Demandscreen_V1_IncidentCategory: ProtoNamedEnum { public static var protoPrefix: String { "INCIDENT_" } }
extension Demandscreen_V1_Fault: ProtoNamedEnum { public static var protoPrefix: String { "FAULT_" } }
extension Demandscreen_V1_Causation: ProtoNamedEnum { public static var protoPrefix: String { "CAUSATION_" } }
extension Demandscreen_V1_DemandKind: ProtoNamedEnum { public static var protoPrefix: String { "DEMAND_" } }
extension Demandscreen_V1_Verdict: ProtoNamedEnum { public static var protoPrefix: String { "VERDICT_" } }
extension Demandscreen_V1_RiskLevel: ProtoNamedEnum { public static var protoPrefix: String { "RISK_" } }
extension Demandscreen_V1_Criterion: ProtoNamedEnum { public static var protoPrefix: String { "CRITERION_" } }
extension Demandscreen_V1_SignalKind: ProtoNamedEnum { public static var protoPrefix: String { "SIGNAL_" } }
extension Demandscreen_V1_Severity: ProtoNamedEnum { public static var protoPrefix: String { "SEVERITY_" } }
extension Demandscreen_V1_Element: ProtoNamedEnum { public static var protoPrefix: String { "ELEMENT_" } }
extension Demandscreen_V1_Action: ProtoNamedEnum { public static var protoPrefix: String { "ACTION_" } }
