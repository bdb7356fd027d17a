#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated OS thread for blocking work (file I/O, compression) that must not occupy the
/// Swift concurrency pool, which has only as many threads as cores.
package struct OSThread: Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    #if canImport(Darwin)
    private let handle: pthread_t?
    #else
    private let handle: pthread_t
    #endif

    /// Starts a thread that runs `body`; `name` documents its purpose at the call site.
    package init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let result = pthread_create(&thread, nil, { raw in
            #if canImport(Darwin)
            let body = Unmanaged<Body>.fromOpaque(raw).takeRetainedValue()
            #else
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            #endif
            body.run()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
        handle = thread
    }

    /// Lets the thread end on its own; nobody will join it.
    package func detach() {
        #if canImport(Darwin)
        if let handle { pthread_detach(handle) }
        #else
        pthread_detach(handle)
        #endif
    }

    /// Waits for the thread to finish.
    package func join() {
        #if canImport(Darwin)
        if let handle { pthread_join(handle, nil) }
        #else
        pthread_join(handle, nil)
        #endif
    }
}
