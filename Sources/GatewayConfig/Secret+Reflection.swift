/// `dump` and debuggers walk stored properties through `Mirror`; hide the bytes there too.
extension Secret: CustomReflectable {
    /// Only the source; the secret bytes are left out.
    public var customMirror: Mirror {
        Mirror(self, children: ["source": description], displayStyle: .struct)
    }
}
