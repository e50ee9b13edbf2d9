/// Carries a loop-confined reference through a `@Sendable` closure that hops back to the same loop.
public struct UnsafeTransfer<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
