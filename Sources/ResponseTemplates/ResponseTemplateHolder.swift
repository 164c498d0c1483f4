import Synchronization

/// The template set in force. A reload swaps it whole, and only when the new set passes every
/// check; a refused set leaves the one in force untouched. Calls already running keep the set
/// they started with.
public final class ResponseTemplateHolder: Sendable {
    private let templates: Mutex<ResponseTemplateSet>

    public init(_ templates: ResponseTemplateSet) {
        self.templates = Mutex(templates)
    }

    public var current: ResponseTemplateSet { templates.withLock { $0 } }

    /// A writer over the set in force.
    public var writer: ResponseWriter { ResponseWriter(templates: current) }

    /// Loads the set again (the built-in folder and `overrideDirectory`) and puts it in force;
    /// throws, keeping the set in force, when a file fails a check.
    @discardableResult
    public func reload(overrideDirectory: String?) throws(TemplateSetError) -> ResponseTemplateSet {
        let loaded = try ResponseTemplateSet(overrideDirectory: overrideDirectory)
        templates.withLock { $0 = loaded }
        return loaded
    }
}
