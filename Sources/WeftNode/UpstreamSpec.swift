// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import WeftModel

/// An explicit upstream listener (`weft node --upstream`), for hosts where traffic cannot be captured (Consul
/// Connect calls these "upstreams"): a local plaintext port whose every connection is carried through the mesh,
/// as one local workload, to a fixed destination.
///
/// Written `[<namespace>/<workload>@]<listen ip>:<port>=<destination>:<port>`, where the destination is a workload
/// IP, a Service VIP or a Service hostname (resolved through the configuration on each connection, so it follows
/// reloads). Without `<namespace>/<workload>@` the node's only local workload is used.
public struct UpstreamSpec: Hashable, Sendable, CustomStringConvertible {
    /// The local workload whose identity the connections carry (`nil`: the node's only local workload).
    public var source: WorkloadName?
    public var listen: HostPort
    public var destination: Destination

    /// `<namespace>/<name>` of a workload.
    public struct WorkloadName: Hashable, Sendable, CustomStringConvertible {
        public var namespace: String
        public var name: String
        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
        public var description: String { "\(namespace)/\(name)" }
    }

    public enum Destination: Hashable, Sendable, CustomStringConvertible {
        case address(HostPort)
        case hostname(String, port: UInt16)

        public var description: String {
            switch self {
            case .address(let hostPort): "\(hostPort)"
            case .hostname(let host, let port): "\(host):\(port)"
            }
        }
    }

    /// Why an `--upstream` value was rejected; the message says what the value should look like.
    public struct ParseError: Error, CustomStringConvertible {
        public var value: String
        public var problem: String
        public var description: String {
            "--upstream \"\(value)\": \(problem) (expected [<namespace>/<workload>@]<listen ip>:<port>=<destination>:<port>, "
                + "e.g. default/client@127.0.0.1:15100=reviews.default.svc.cluster.local:9080)"
        }
    }

    public init(source: WorkloadName?, listen: HostPort, destination: Destination) {
        self.listen = listen
        self.destination = destination
        self.source = source
    }

    public init(parsing value: String) throws {
        func fail(_ problem: String) -> ParseError { ParseError(value: value, problem: problem) }
        guard let equals = value.firstIndex(of: "=") else { throw fail("no '='") }
        var left = Substring(value[..<equals])
        let right = value[value.index(after: equals)...]
        var source: WorkloadName?
        if let at = left.firstIndex(of: "@") {
            let name = left[..<at]
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isNameCharacter) }) else {
                throw fail("the source \"\(name)\" is not <namespace>/<workload>")
            }
            source = WorkloadName(namespace: String(parts[0]), name: String(parts[1]))
            left = left[left.index(after: at)...]
        }
        guard let listen = HostPort(parsing: left) else {
            throw fail("the listen address \"\(left)\" is not <ip>:<port>")
        }
        let destination: Destination
        if let address = HostPort(parsing: right) {
            destination = .address(address)
        } else {
            guard let colon = right.lastIndex(of: ":"), let port = UInt16(right[right.index(after: colon)...]), port != 0
            else { throw fail("the destination \"\(right)\" has no port") }
            let host = right[..<colon]
            guard !host.isEmpty, host.allSatisfy({ Self.isNameCharacter($0) || $0 == "." }) else {
                throw fail("the destination \"\(host)\" is neither an IP address nor a Service hostname")
            }
            destination = .hostname(host.lowercased(), port: port)
        }
        self.init(source: source, listen: listen, destination: destination)
    }

    private static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-")
    }

    public var description: String {
        let prefix = source.map { "\($0)@" } ?? ""
        return "\(prefix)\(listen)=\(destination)"
    }

    /// The local workload the listener speaks for, or why there is none.
    public func sourceWorkload(among local: [Workload]) -> Result<Workload, UpstreamError> {
        if let source {
            guard let workload = local.first(where: { $0.namespace == source.namespace && $0.name == source.name }) else {
                return .failure(UpstreamError(spec: self, reason: "\(source) is not a workload of this node"))
            }
            return .success(workload)
        }
        guard local.count == 1 else {
            return .failure(
                UpstreamError(
                    spec: self,
                    reason: "this node has \(local.count) local workloads; name one as <namespace>/<workload>@"
                )
            )
        }
        return .success(local[0])
    }

    /// The address to plan for under `snapshot`: the destination itself, or the first VIP of the Service named.
    public func resolve(in snapshot: MeshSnapshot) -> Result<HostPort, UpstreamError> {
        switch destination {
        case .address(let address):
            return .success(address)
        case .hostname(let host, let port):
            guard let service = snapshot.services.first(where: { $0.hostname == host }) else {
                return .failure(UpstreamError(spec: self, reason: "no Service has the hostname \(host)"))
            }
            guard let vip = service.vips.first else {
                return .failure(UpstreamError(spec: self, reason: "Service \(service.namespace)/\(service.name) has no address"))
            }
            return .success(HostPort(ip: vip, port: port))
        }
    }
}

/// An upstream listener that cannot serve: names the listener and what to fix.
public struct UpstreamError: Error, CustomStringConvertible {
    public var spec: UpstreamSpec
    public var reason: String
    public var description: String { "upstream \(spec): \(reason)" }
}
