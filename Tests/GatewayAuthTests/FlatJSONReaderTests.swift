import Testing
@testable import GatewayAuth
