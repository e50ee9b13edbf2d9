import GatewayConfig
import GatewayCore

// TEMPORARY until the config keys land from the small-fixes branch.
extension LimitsConfig {
    var tunnelIdleTimeout: TimeSpan { .seconds(60) }
}
