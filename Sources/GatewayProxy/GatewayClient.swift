/// A client connection as the loop sees it for counting and draining, whatever its protocol.
protocol GatewayClient: AnyObject {
    var kind: ListenerKind { get }
    /// Stop taking new requests: close when idle, finish what is in flight.
    func drain()
    /// Close now.
    func forceClose()
}

extension ClientConnection: GatewayClient {}
