/// The error underneath the wrappers this library puts around it: a retry's last error
/// (recursively), so that errors group by what failed, not by what gave up.
package enum RootCause {
    /// The type name of `error`'s root cause: `error`'s own when it wraps nothing.
    package static func typeName(of error: any Error) -> String {
        var root = error
        while let retry = root as? RetryError { root = retry.lastError }
        return String(describing: type(of: root))
    }

    /// The root cause's type name when it differs from `error`'s own (what an event records
    /// beside its `error_type`), else `nil`.
    package static func typeNameIfWrapped(_ error: any Error) -> String? {
        let root = typeName(of: error)
        return root == String(describing: type(of: error)) ? nil : root
    }
}
