import Logging
import ResponseTemplates

extension Daemon {
    /// The response templates at start: the built-in set with `directory` laid over it.
    static func loadTemplates(directory: String?) throws(DaemonError) -> ResponseTemplateSet {
        do {
            return try ResponseTemplateSet(overrideDirectory: directory)
        } catch {
            throw DaemonError("the response templates are invalid: \(error)")
        }
    }
}

/// Reloads the response templates on SIGHUP, next to the policy. A set with one bad file is
/// refused, naming the file and the problem, and the set in force stays.
struct ResponseTemplatesReloader {
    let directory: String?
    let responses: ResponseTemplateHolder
    let logger: Logger

    func reload() {
        do {
            let loaded = try responses.reload(overrideDirectory: directory)
            logger.notice(
                "response templates reloaded",
                metadata: ["templates": "\(directory ?? "builtin")", "count": "\(loaded.sources.count)"])
        } catch {
            logger.error(
                "response templates reload refused; the previous templates stay in force",
                metadata: ["error": "\(error)"])
        }
    }
}
