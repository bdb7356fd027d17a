#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex that guards a value, with two condition variables to wait on.
///
/// `Synchronization.Mutex` has no condition variable; the event bus needs one for its drain
/// thread to sleep on and for the blocking overflow policy, so this wraps pthreads the way
/// SwiftNIO's `ConditionLock` does. The guarded value is only reachable inside `withLock`.
///
/// It is also the project's plain lock (``Locked``): ThreadSanitizer understands pthread mutexes,
/// whereas `Synchronization.Mutex` on Linux locks with atomics inside the uninstrumented standard
/// library, so every access it protects is reported as a race under `--sanitize=thread`.
package final class ConditionLock<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let state: UnsafeMutablePointer<State>

    /// The condition variables; which one means what is up to the owner.
    package enum Condition: Int {
        case first = 0
        case second = 1
    }

    package init(_ state: State) {
        self.state = .allocate(capacity: 1)
        self.state.initialize(to: state)
        mutex = .allocate(capacity: 1)
        conditions = .allocate(capacity: 2)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(conditions, &attributes)
        pthread_cond_init(conditions + 1, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
        pthread_cond_destroy(conditions)
        pthread_cond_destroy(conditions + 1)
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the lock held. `body` may call `wait` on the handle it receives.
    ///
    /// The state comes as a pointer, not `inout`: the optimizer may assume that nothing else
    /// changes an `inout` value while it is accessed, and would then never see what another
    /// thread changed while this one waited. Read it through `pointee` after every wait.
    @inline(__always)
    package func withLockAndWaiter<Result>(_ body: (UnsafeMutablePointer<State>, Waiter) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(state, Waiter(lock: self))
    }

    /// Runs `body` with the lock held.
    @inline(__always)
    package func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }

    /// Wakes one thread waiting on `condition`.
    package func signal(_ condition: Condition) {
        pthread_cond_signal(conditions + condition.rawValue)
    }

    /// Wakes every thread waiting on `condition`.
    package func broadcast(_ condition: Condition) {
        pthread_cond_broadcast(conditions + condition.rawValue)
    }

    /// Lets the closure given to `withLock` wait on a condition.
    package struct Waiter {
        fileprivate let lock: ConditionLock<State>

        /// Releases the lock, waits for a signal on `condition`, and takes the lock again.
        package func wait(_ condition: Condition) {
            pthread_cond_wait(lock.conditions + condition.rawValue, lock.mutex)
        }

        /// As `wait`, but returns after at most `nanoseconds`.
        package func wait(_ condition: Condition, nanoseconds: Int64) {
            #if canImport(Darwin)
            var relative = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            pthread_cond_timedwait_relative_np(lock.conditions + condition.rawValue, lock.mutex, &relative)
            #else
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let total = Int64(deadline.tv_nsec) + nanoseconds % 1_000_000_000
            deadline.tv_sec += Int(nanoseconds / 1_000_000_000 + total / 1_000_000_000)
            deadline.tv_nsec = Int(total % 1_000_000_000)
            pthread_cond_timedwait(lock.conditions + condition.rawValue, lock.mutex, &deadline)
            #endif
        }
    }
}

/// A value behind a pthread mutex (see ``ConditionLock`` for why not `Synchronization.Mutex`).
package typealias Locked<State> = ConditionLock<State>
