import Dispatch

/// A second thread for one job at a time, run beside the caller's own work on the same bytes,
/// so a tool that must both hash and decrypt (or hash twice) uses both cores.
///
///     try overlap.run({ digest.add(chunk) }, alongside: { try decrypt(chunk) })
///
/// Why this is free of data races: `run` returns only after the job has finished (a semaphore,
/// which also makes everything the job wrote visible to the caller), whatever either side
/// throws; so the job may read what the caller reads, and use objects the caller does not touch
/// during `run`, and nothing the job sees can be freed or reused while it runs. One job at a
/// time: `run` is not to be called from two threads at once.
public final class Overlap: @unchecked Sendable {
    private let queue = DispatchQueue(label: "cpk.overlap")
    private let finished = DispatchSemaphore(value: 0)
    /// Written by the job before it signals `finished`, read by the caller after waiting.
    private var failure: Error?

    public init() {}

    /// Runs `job` on the second thread and `body` on this one; returns once both are done, with
    /// `body`'s result, or the first error (the body's before the job's).
    public func run<T>(_ job: () throws -> Void, alongside body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(job) { job in
            // The job does not outlive this call (the wait below), so escaping it is sound.
            let box = JobBox(job)
            queue.async { [self] in
                failure = box.runOnce()
                finished.signal()
            }
            let result = Result { try body() }
            finished.wait()
            defer { failure = nil }
            let value = try result.get()
            if let failure { throw failure }
            return value
        }
    }
}

/// A job handed to the second thread; `Overlap.run` waits for it before anything it refers to
/// can change, which is what makes the unchecked Sendable sound.
private final class JobBox: @unchecked Sendable {
    private var job: (() throws -> Void)?

    init(_ job: @escaping () throws -> Void) { self.job = job }

    /// Runs the job and lets go of it, so that nothing refers to it once this returns (before
    /// the caller is told the job is done, and leaves `withoutActuallyEscaping`).
    func runOnce() -> Error? {
        guard let job else { return nil }
        self.job = nil
        do {
            try job()
            return nil
        } catch {
            return error
        }
    }
}
