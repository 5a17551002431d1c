import CPKCore

/// The error of a tool that exists in the suite but does not work yet: it must say so and
/// fail, never pretend.
public func notYetAvailable(arrivesWith issue: String) -> CPKError {
    .usage("not implemented yet (it arrives with \(issue)); nothing was done")
}
