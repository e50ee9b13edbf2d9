import Foundation
import Testing
import TestSupport
import Yams
#if canImport(Glibc)
import Glibc
#endif

/// deploy/ as an operator uses it: every gateway config passes `check`, the systemd unit passes `systemd-analyze verify`
/// once `make install` put it in place, the Kubernetes manifests pass `kubernetes-validate --strict`, and the compose
/// topology really shares its replay state. A missing tool fails the test (`make deps` installs them).
@Suite struct DeployFilesTests {
    @Test("every gateway config under deploy/, ConfigMaps included, passes check without a warning")
    func everyConfigPassesCheck() throws {
        let configs = try DeployFiles.gatewayConfigs()
        let names = configs.map(\.name)
        // systemd, compose, the image's, and one ConfigMap per manifest: a config that silently drops out would go unchecked.
        #expect(names.contains("systemd/gateway.yaml"), "\(names)")
        #expect(names.contains("compose/gateway.yaml"), "\(names)")
        #expect(names.contains("container/gateway.yaml"), "\(names)")
        #expect(names.filter { $0.hasPrefix("kubernetes/") }.count == 2, "\(names)")
        for (name, yaml) in configs {
            let r = try DeployFiles.check(yaml)
            #expect(r.status == 0, "\(name): \(r.stderr)")
            #expect(!r.stderr.contains("warning"), "\(name): \(r.stderr)")
        }
    }

    @Test("the image bakes container/gateway.yaml where its default command reads it, and runs as compose's user")
    func dockerfileBakesTheCheckedConfig() throws {
        let lines = try DeployFiles.text("Dockerfile").split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        let config = "/etc/session-gateway/gateway.yaml"
        #expect(lines.contains("COPY deploy/container/gateway.yaml \(config)"), "the config `check` covers is not the one baked")
        #expect(lines.contains("CMD [\"serve\", \"--config\", \"\(config)\"]"))
        #expect(lines.contains("ENTRYPOINT [\"session-gateway\"]"))
        let compose = try #require(try Yams.load(yaml: DeployFiles.text("compose/compose.yaml")) as? [String: Any])
        let user = try #require((compose["services"] as? [String: [String: Any]])?["gateway-a"]?["user"] as? String)
        #expect(lines.contains("USER \(user)"), "the image's user is not compose's \(user)")
        // The secret path the baked config reads is where docker/podman --secret and the README put it.
        #expect(try DeployFiles.text("container/gateway.yaml").contains("file: /run/secrets/shopify-api-secret"))
    }

    @Test("make install puts binary, unit and config in DESTDIR, keeps an edited config, and the unit verifies")
    func makeInstallThenVerifyUnit() throws {
        let destdir = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-install-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: destdir) }
        let install = try runProcess("/usr/bin/make", ["-C", DeployFiles.root.path, "--no-print-directory", "install",
                                                       "DESTDIR=\(destdir.path)", "BINARY=\(gatewayBinary())"])
        #expect(install.status == 0, "\(install.stdout)\n\(install.stderr)")
        let binary = destdir.appendingPathComponent("usr/local/bin/session-gateway").path
        let unit = destdir.appendingPathComponent("etc/systemd/system/session-gateway.service").path
        let config = destdir.appendingPathComponent("etc/session-gateway/gateway.yaml").path
        #expect(FileManager.default.isExecutableFile(atPath: binary) == true)
        #expect(try String(contentsOfFile: config, encoding: .utf8) == DeployFiles.text("systemd/gateway.yaml"))
        #expect(try String(contentsOfFile: unit, encoding: .utf8) == DeployFiles.text("systemd/session-gateway.service"))
        // The installed binary runs `check` on the installed config (credential path given a copy).
        let checked = try DeployFiles.check(String(contentsOfFile: config, encoding: .utf8))
        #expect(checked.status == 0, "\(checked.stderr)")

        // A second install keeps an operator's edited config.
        let edited = "# edited by the operator\n"
        try edited.write(toFile: config, atomically: true, encoding: .utf8)
        let again = try runProcess("/usr/bin/make", ["-C", DeployFiles.root.path, "--no-print-directory", "install",
                                                     "DESTDIR=\(destdir.path)", "BINARY=\(gatewayBinary())"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("kept the existing"), "\(again.stdout)")
        #expect(try String(contentsOfFile: config, encoding: .utf8) == edited)

        try verifyUnit(installedIn: destdir)
    }

    @Test("PREFIX moves the binary and the unit's ExecStart with it")
    func makeInstallHonoursPrefix() throws {
        let destdir = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-prefix-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: destdir) }
        let install = try runProcess("/usr/bin/make", ["-C", DeployFiles.root.path, "--no-print-directory", "install", "PREFIX=/opt/sgw",
                                                       "DESTDIR=\(destdir.path)", "BINARY=\(gatewayBinary())"])
        #expect(install.status == 0, "\(install.stdout)\n\(install.stderr)")
        #expect(FileManager.default.isExecutableFile(atPath: destdir.appendingPathComponent("opt/sgw/bin/session-gateway").path) == true)
        let unit = try String(contentsOfFile: destdir.appendingPathComponent("etc/systemd/system/session-gateway.service").path, encoding: .utf8)
        #expect(unit.contains("ExecStart=/opt/sgw/bin/session-gateway serve --config /etc/session-gateway/gateway.yaml"), "\(unit)")
        #expect(!unit.contains("/usr/local/bin"))
        try verifyUnit(installedIn: destdir)
    }

    /// `systemd-analyze verify --root=DESTDIR` on the installed unit: the root is the install plus what verify resolves
    /// outside it (systemd's own units for the dependencies, /bin/kill for ExecReload). Any output is a finding.
    private func verifyUnit(installedIn destdir: URL) throws {
        let analyze = try DeployFiles.systemdAnalyze()
        let fm = FileManager.default
        try fm.createDirectory(at: destdir.appendingPathComponent("usr/lib/systemd"), withIntermediateDirectories: true)
        try fm.createDirectory(at: destdir.appendingPathComponent("bin"), withIntermediateDirectories: true)
        let copy = try runProcess("/bin/cp", ["-a", "/usr/lib/systemd/system", destdir.appendingPathComponent("usr/lib/systemd").path])
        #expect(copy.status == 0, "\(copy.stderr)")
        try fm.copyItem(atPath: "/bin/kill", toPath: destdir.appendingPathComponent("bin/kill").path)
        let unit = destdir.appendingPathComponent("etc/systemd/system/session-gateway.service").path
        let r = try runProcess(analyze, ["verify", "--root=\(destdir.path)", unit])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect((r.stdout + r.stderr).isEmpty, "systemd-analyze verify reported: \(r.stdout)\(r.stderr)")
    }

    @Test("the unit is hardened, reads its secret as a credential where the config looks, and outwaits the drain")
    func unitMatchesItsConfig() throws {
        let unit = try DeployFiles.text("systemd/session-gateway.service")
        let lines = unit.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        func value(_ key: String) -> String? { lines.first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } }
        for (key, expected) in [("DynamicUser", "yes"), ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                                ("ProtectHome", "yes"), ("PrivateTmp", "yes"), ("ExecReload", "/bin/kill -HUP $MAINPID"),
                                ("ExecStart", "/usr/local/bin/session-gateway serve --config /etc/session-gateway/gateway.yaml")] {
            #expect(value(key) == expected, "\(key)")
        }
        #expect((value("LimitNOFILE").flatMap { Int($0) } ?? 0) >= 20000)
        #expect(value("AmbientCapabilities") == nil, "binding below 1024 is a commented option only")
        #expect(unit.contains("#AmbientCapabilities=CAP_NET_BIND_SERVICE"))

        // LoadCredential=NAME:PATH lands in /run/credentials/<unit>/NAME, the path gateway.yaml reads.
        let credential = try #require(value("LoadCredential")?.split(separator: ":").first.map(String.init))
        let config = try DeployFiles.text("systemd/gateway.yaml")
        #expect(config.contains("file: /run/credentials/session-gateway.service/\(credential)"))

        let stop = try #require(value("TimeoutStopSec").flatMap(DeployFiles.seconds))
        #expect(try stop > DeployFiles.stopBudget(config), "TimeoutStopSec must outlast readiness_grace + drain_timeout")
    }

    @Test("the Kubernetes manifests pass kubernetes-validate --strict without a warning")
    func manifestsValidateStrictly() throws {
        let validate = try DeployFiles.kubernetesValidate()
        let manifests = DeployFiles.manifests
        #expect(manifests == ["kubernetes/fleet.yaml", "kubernetes/sidecar.yaml"], "\(manifests)")
        for manifest in manifests {
            let r = try runProcess(validate, ["--strict", DeployFiles.url(manifest).path])
            #expect(r.status == 0, "\(manifest): \(r.stdout)\(r.stderr)")
            let findings = (r.stdout + r.stderr).split(separator: "\n").filter { !$0.hasPrefix("INFO ") }
            #expect(findings.isEmpty, "\(manifest): \(findings)")
            #expect(r.stdout.contains("passed for resource deployment/"), "\(manifest): \(r.stdout)")
        }
    }

    @Test("sidecar: a native sidecar on a hardened pod, probes on the admin port, grace above the drain")
    func sidecarShape() throws {
        let docs = try DeployFiles.documents("kubernetes/sidecar.yaml")
        let pod = try podSpec(docs)
        let gateway = try #require((pod["initContainers"] as? [[String: Any]])?.first { $0["name"] as? String == "session-gateway" })
        #expect(gateway["restartPolicy"] as? String == "Always")
        try expectHardened(gateway, pod: pod)
        try expectProbes(gateway)
        try expectConfigMounted(gateway, pod: pod, docs: docs)
    }

    @Test("fleet: replicas, anti-affinity, a PodDisruptionBudget, a Service, Redis with a file password, scrape annotations")
    func fleetShape() throws {
        let docs = try DeployFiles.documents("kubernetes/fleet.yaml")
        let kinds = docs.compactMap { $0["kind"] as? String }
        #expect(kinds.contains("PodDisruptionBudget") && kinds.contains("Service"), "\(kinds)")
        let deployment = try #require(docs.first { $0["kind"] as? String == "Deployment" })
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect((spec["replicas"] as? Int ?? 0) >= 2)
        let template = try #require(spec["template"] as? [String: Any])
        let annotations = (template["metadata"] as? [String: Any])?["annotations"] as? [String: Any] ?? [:]
        #expect(annotations["prometheus.io/scrape"] as? String == "true")
        #expect(annotations["prometheus.io/port"] as? String == "9901")
        let pod = try podSpec(docs)
        #expect(((pod["affinity"] as? [String: Any])?["podAntiAffinity"]) != nil)
        let gateway = try #require((pod["containers"] as? [[String: Any]])?.first { $0["name"] as? String == "session-gateway" })
        try expectHardened(gateway, pod: pod)
        try expectProbes(gateway)
        try expectConfigMounted(gateway, pod: pod, docs: docs)

        let config = try #require(try DeployFiles.gatewayConfigs().first { $0.name.hasPrefix("kubernetes/fleet.yaml") }?.yaml)
        let redis = try #require(((try Yams.load(yaml: config) as? [String: Any])?["replay"] as? [String: Any])?["redis"] as? [String: Any])
        let url = try #require(redis["url"] as? String)
        #expect(url.hasPrefix("redis+sentinel://") || url.hasPrefix("rediss://"), "\(url)")
        #expect((redis["password"] as? [String: Any])?["file"] is String, "the Redis password comes from a mounted Secret")
    }

    @Test("compose: two gateways on one config, one Redis, the echo backend, and a secret file that exists")
    func composeShape() throws {
        let compose = try #require(try Yams.load(yaml: DeployFiles.text("compose/compose.yaml")) as? [String: Any])
        let services = try #require(compose["services"] as? [String: [String: Any]])
        #expect(Set(services.keys) == ["gateway-a", "gateway-b", "redis", "echo"])
        for name in ["gateway-a", "gateway-b"] {
            let service = try #require(services[name])
            #expect((service["volumes"] as? [String])?.contains("./gateway.yaml:/etc/session-gateway/gateway.yaml:ro") == true, "\(name)")
            #expect((service["command"] as? [String])?.first == "serve", "\(name)")
            #expect((service["secrets"] as? [String]) == ["shopify-api-secret"], "\(name)")
            #expect(service["read_only"] as? Bool == true, "\(name)")
        }
        #expect((services["echo"]?["command"] as? [String])?.first == "echo-backend")
        let secrets = try #require(compose["secrets"] as? [String: [String: Any]])
        let secretFile = try #require(secrets["shopify-api-secret"]?["file"] as? String)
        #expect(FileManager.default.fileExists(atPath: DeployFiles.url("compose/\(secretFile)").path))
    }

    @Test("compose's gateway config, run twice against one Redis: a token used on gateway A is refused on gateway B")
    func composeSharesReplayState() throws {
        let redis = try RedisServerProcess()
        defer { redis.stop() }
        let echoPort = try freePort()
        let secret = try DeployFiles.text("compose/dev-shopify-api-secret").trimmingCharacters(in: .whitespacesAndNewlines)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-compose-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let secretPath = dir.appendingPathComponent("shopify-api-secret").path
        try (secret + "\n").write(toFile: secretPath, atomically: true, encoding: .utf8)

        // The compose file's service names and container ports, mapped to this host: everything else runs as written.
        let original = try DeployFiles.text("compose/gateway.yaml")
        var gateways: [(listen: Int, config: String)] = []
        for name in ["a", "b"] {
            let listen = try freePort(), admin = try freePort()
            var yaml = original
            for (from, to) in [("0.0.0.0:8080", "127.0.0.1:\(listen)"), ("0.0.0.0:9901", "127.0.0.1:\(admin)"),
                               ("echo:3000", "127.0.0.1:\(echoPort)"), ("redis://redis:6379/0", redis.url),
                               ("/run/secrets/shopify-api-secret", secretPath)] {
                #expect(yaml.contains(from), "compose/gateway.yaml no longer has \(from)")
                yaml = yaml.replacingOccurrences(of: from, with: to)
            }
            let path = dir.appendingPathComponent("gateway-\(name).yaml").path
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            gateways.append((listen, path))
        }

        let echo = try GatewayBinary(["echo-backend", "--listen", "127.0.0.1:\(echoPort)"])
        defer { echo.kill() }
        let a = try GatewayBinary(["serve", "--config", gateways[0].config])
        defer { a.kill() }
        let b = try GatewayBinary(["serve", "--config", gateways[1].config])
        defer { b.kill() }
        #expect(waitForListener(port: echoPort))
        #expect(waitForListener(port: gateways[0].listen), "gateway A did not start: \(a.stderr)")
        #expect(waitForListener(port: gateways[1].listen), "gateway B did not start: \(b.stderr)")

        let mint = try runProcess(gatewayBinary(), ["token", "mint", "--config", gateways[0].config, "--shop", "demo.myshopify.com"])
        #expect(mint.status == 0, "\(mint.stderr)")
        let token = mint.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let first = try RawClient(port: gateways[0].listen)
        first.send(httpRequest("GET", "/hello", token: token))
        let accepted = first.readResponse()
        #expect(accepted?.status == 200, "\(accepted?.bodyText ?? "no response")")
        #expect(accepted?.echoedHeaders["x-shop-domain"] == "demo.myshopify.com")

        let second = try RawClient(port: gateways[1].listen)
        second.send(httpRequest("GET", "/hello", token: token))
        expectAnswer(second.readResponse(), status: 401, code: "token_replayed")
    }

    // MARK: Helpers

    private func podSpec(_ docs: [[String: Any]]) throws -> [String: Any] {
        let deployment = try #require(docs.first { $0["kind"] as? String == "Deployment" })
        let template = try #require((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])
        return try #require(template["spec"] as? [String: Any])
    }

    /// Non-root, read-only root filesystem, no capabilities, resources, and a grace period above the drain.
    private func expectHardened(_ container: [String: Any], pod: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect((pod["securityContext"] as? [String: Any])?["runAsNonRoot"] as? Bool == true, sourceLocation: sourceLocation)
        let security = container["securityContext"] as? [String: Any] ?? [:]
        #expect(security["readOnlyRootFilesystem"] as? Bool == true, sourceLocation: sourceLocation)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false, sourceLocation: sourceLocation)
        #expect((security["capabilities"] as? [String: Any])?["drop"] as? [String] == ["ALL"], sourceLocation: sourceLocation)
        #expect(container["resources"] != nil, sourceLocation: sourceLocation)
        #expect(container["image"] as? String == "session-gateway:latest", sourceLocation: sourceLocation)
    }

    /// /readyz and /healthz on 9901, the admin address the config binds on 0.0.0.0.
    private func expectProbes(_ container: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ports = (container["ports"] as? [[String: Any]] ?? []).reduce(into: [String: Int]()) { map, port in
            if let name = port["name"] as? String, let number = port["containerPort"] as? Int { map[name] = number }
        }
        for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
            let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any]
            #expect(get?["path"] as? String == path, "\(probe)", sourceLocation: sourceLocation)
            let port = (get?["port"] as? Int) ?? (get?["port"] as? String).flatMap { ports[$0] }
            #expect(port == 9901, "\(probe)", sourceLocation: sourceLocation)
        }
    }

    /// The container's --config lies in the ConfigMap's mount, every `file:` the config reads lies in a Secret's mount,
    /// the admin listener binds 0.0.0.0:9901, and the grace period outlasts readiness_grace + drain_timeout.
    private func expectConfigMounted(_ container: [String: Any], pod: [String: Any], docs: [[String: Any]],
                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let volumes = (pod["volumes"] as? [[String: Any]] ?? []).reduce(into: [String: [String: Any]]()) { map, v in
            if let name = v["name"] as? String { map[name] = v }
        }
        let mounts = (container["volumeMounts"] as? [[String: Any]] ?? []).compactMap { m -> (path: String, volume: [String: Any])? in
            guard let path = m["mountPath"] as? String, let name = m["name"] as? String, let v = volumes[name] else { return nil }
            return (path, v)
        }
        let args = container["args"] as? [String] ?? []
        let configPath = try #require(args.firstIndex(of: "--config").map { args[$0 + 1] }, sourceLocation: sourceLocation)
        let configMount = try #require(mounts.first { configPath.hasPrefix($0.path + "/") }, "no mount for \(configPath)",
                                       sourceLocation: sourceLocation)
        let mapName = try #require((configMount.volume["configMap"] as? [String: Any])?["name"] as? String, sourceLocation: sourceLocation)
        let map = try #require(docs.first { $0["kind"] as? String == "ConfigMap" && ($0["metadata"] as? [String: Any])?["name"] as? String == mapName },
                               sourceLocation: sourceLocation)
        let key = String(configPath.dropFirst(configMount.path.count + 1))
        let yaml = try #require((map["data"] as? [String: Any])?[key] as? String, "ConfigMap \(mapName) has no \(key)",
                                sourceLocation: sourceLocation)
        #expect(yaml.contains("address: 0.0.0.0:9901"), sourceLocation: sourceLocation)
        for match in yaml.matches(of: try Regex(#"file:\s*(/[^\s,}]+)"#)) {
            let path = String(match.output[1].substring ?? "")
            let mount = mounts.first { path.hasPrefix($0.path + "/") }
            #expect(mount?.volume["secret"] != nil, "\(path) is not in a mounted Secret", sourceLocation: sourceLocation)
        }
        let grace = Double(pod["terminationGracePeriodSeconds"] as? Int ?? 30)
        #expect(try grace > DeployFiles.stopBudget(yaml), "terminationGracePeriodSeconds must outlast the drain", sourceLocation: sourceLocation)
    }
}
