// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kernel's random numbers, read 512 bytes at a time into a per-thread buffer.
///
/// `SystemRandomNumberGenerator` makes one `getrandom(2)` call per 64-bit draw. The data path draws several per
/// connection or request (a `traceparent` is three words, an `x-request-id` two, a load-balancing pick one or two):
/// `perf stat` on the bench's new-connection cell counted 3 `getrandom` calls per connection on the sending node.
/// Like Envoy's random generator (a buffer of BoringSSL's `RAND_bytes`), this keeps the kernel's cryptographic
/// randomness and makes one read per 64 draws. Where `/dev/urandom` cannot be opened it falls back to the system
/// generator.
public struct BufferedRandom: RandomNumberGenerator {
    public init() {}

    public mutating func next() -> UInt64 {
        ThreadBuffer.current.next()
    }
}

/// One thread's unread random words.
private final class ThreadBuffer {
    private static let words = 64
    private let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: ThreadBuffer.words)
    private var index = ThreadBuffer.words

    deinit { storage.deallocate() }

    func next() -> UInt64 {
        if index == Self.words { refill() }
        defer { index += 1 }
        return storage[index]
    }

    private func refill() {
        index = 0
        let bytes = Self.words * MemoryLayout<UInt64>.size
        var filled = 0
        if Self.urandom >= 0 {
            while filled < bytes {
                let n = read(Self.urandom, UnsafeMutableRawPointer(storage) + filled, bytes - filled)
                if n > 0 {
                    filled += n
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
        }
        guard filled < bytes else { return }
        var system = SystemRandomNumberGenerator()
        for word in (filled / MemoryLayout<UInt64>.size)..<Self.words { storage[word] = system.next() }
    }

    /// A process-wide descriptor, opened on first use (`-1`: unavailable).
    private static let urandom: Int32 = open("/dev/urandom", O_RDONLY | O_CLOEXEC)

    /// The calling thread's buffer, created on its first draw and freed when the thread exits.
    static var current: ThreadBuffer {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<ThreadBuffer>.fromOpaque(pointer).takeUnretainedValue()
        }
        let buffer = ThreadBuffer()
        pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        return buffer
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            #if canImport(Glibc)
            guard let pointer else { return }
            #endif
            Unmanaged<ThreadBuffer>.fromOpaque(pointer).release()
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()
}
