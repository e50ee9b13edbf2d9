/// Decodes a token for display without trusting it (`token inspect`); verification is `TokenVerifier`'s job.
public enum TokenInspector {
    /// Header and payload JSON of `token` (a `Bearer ` prefix is accepted); `malformed_token` when either
    /// segment is not base64url of UTF-8 JSON object text.
    public static func decode(_ token: String) -> Result<DecodedToken, AuthFailure> {
        var value = token
        return value.withUTF8 { all in
            var bytes = all
            if case .success(let range) = AuthorizationHeader.tokenRange(in: all) {
                bytes = UnsafeBufferPointer(rebasing: all[range])
            }
            guard let segments = TokenSegments.split(bytes),
                  let header = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[segments.header])),
                  let payload = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[segments.payload])),
                  FlatJSONReader.parseObject(header) != nil, FlatJSONReader.parseObject(payload) != nil,
                  let headerJSON = String(validating: header, as: UTF8.self),
                  let payloadJSON = String(validating: payload, as: UTF8.self) else {
                return .failure(.malformedToken)
            }
            return .success(DecodedToken(headerJSON: headerJSON, payloadJSON: payloadJSON))
        }
    }
}
