// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig
import WeftModel

@Suite struct DocumentTests {
    @Test func multiDocumentFileWithEmptyDocuments() throws {
        let result = load(
            """
            # leading comment
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
              labels: {istio.io/dataplane-mode: ambient}
            ---
            ---
            # only a comment
            ---
            \(podYAML("web-0", ip: "10.1.0.1", namespace: "shop"))
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              clusterIP: 10.96.1.1
              selector: {app: web}
            ...
            """)
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        let snapshot = try #require(result.snapshot)
        let shop = MeshNamespace(name: "shop", labels: ["istio.io/dataplane-mode": "ambient"])
        #expect(snapshot.namespaces["shop"] == shop)
        #expect(snapshot.workloads.map(\.uid) == ["Pod/shop/web-0"])
        #expect(snapshot.services.map(\.uid) == ["Service/shop/web"])
    }

    @Test func listIsExpanded() throws {
        let result = load(
            """
            apiVersion: v1
            kind: List
            metadata: {resourceVersion: ""}
            items:
            - apiVersion: v1
              kind: Pod
              metadata: {name: a}
              status: {podIP: 10.1.0.1}
            - apiVersion: v1
              kind: Service
              metadata: {name: s}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: d, namespace: x}
            - apiVersion: v1
              kind: Pod
              metadata: {name: b}
              status: {podIP: 10.1.0}
            """, file: "list.yaml")
        #expect(result.printed == [
            "list.yaml:13: Deployment/x/d: kind: warning: unknown kind Deployment, skipped",
            "list.yaml:18: Pod/default/b: status.podIP: \"10.1.0\" is not a valid IP address; use an IPv4 "
                + "(10.0.0.1) or IPv6 (fd00::1) address",
        ])
    }

    @Test func typedListGivesItsItemsTheirKind() throws {
        let result = load(
            """
            apiVersion: v1
            kind: PodList
            items:
            - metadata: {name: a}
              status: {podIP: 10.1.0.1}
            - metadata: {name: b}
              status: {podIP: 10.1.0.2}
            """)
        #expect(result.diagnostics.isEmpty)
        #expect(result.snapshot?.workloads.map(\.name) == ["a", "b"])
    }

    @Test func emptyListIsSilent() throws {
        let result = load("apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: List\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.snapshot?.workloads.isEmpty == true)
    }

    @Test func namespaceObject() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: Bad_Name
            """)
        let diagnostic = try #require(result.single)
        #expect(diagnostic.object == "Namespace/Bad_Name")
        #expect(diagnostic.field == "metadata.name")
        #expect(diagnostic.line == 4)
    }

    struct DocumentCase: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var line: Int
        var object: String
        var field: String
        var message: String
        var testDescription: String { name }
    }

    static let documentCases: [DocumentCase] = [
        DocumentCase(
            name: "not a mapping",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nstatus: {podIP: 10.0.0.1}\n---\n- just\n- a list\n",
            line: 6, object: "-", field: "-",
            message: "document is a list, not a mapping; each YAML document must be one Kubernetes object with "
                + "apiVersion, kind and metadata"),
        DocumentCase(
            name: "scalar document", yaml: "hello\n", line: 1, object: "-", field: "-",
            message: "document is \"hello\", not a mapping; each YAML document must be one Kubernetes object with "
                + "apiVersion, kind and metadata"),
        DocumentCase(
            name: "missing kind", yaml: "\n\napiVersion: v1\nmetadata: {name: x}\n", line: 3, object: "-",
            field: "kind", message: "missing kind; add the object's kind, e.g. \"kind: Pod\""),
        DocumentCase(
            name: "missing apiVersion", yaml: "kind: ServiceEntry\nmetadata: {name: x}\n", line: 1, object: "-",
            field: "apiVersion",
            message: "missing apiVersion; add the object's apiVersion, e.g. \"apiVersion: networking.istio.io/v1\""),
        DocumentCase(
            name: "kind not a string", yaml: "apiVersion: v1\nkind: [Pod]\n", line: 2, object: "-", field: "kind",
            message: "must be a string, got a list"),
        DocumentCase(
            name: "missing metadata", yaml: "apiVersion: v1\nkind: Service\nspec: {}\n", line: 1, object: "-",
            field: "metadata", message: "missing metadata; every Service needs metadata.name"),
        DocumentCase(
            name: "missing metadata.name", yaml: "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {a: b}\n",
            line: 3, object: "-", field: "metadata.name", message: "missing metadata.name; every Pod needs a name"),
        DocumentCase(
            name: "empty metadata.name", yaml: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"\"\n",
            line: 4, object: "-", field: "metadata.name", message: "must not be empty; every Pod needs a name"),
        DocumentCase(
            name: "list items not a list", yaml: "apiVersion: v1\nkind: List\nitems: {a: b}\n", line: 3,
            object: "-", field: "items", message: "must be a list of objects, got a mapping"),
        DocumentCase(
            name: "list item missing kind",
            yaml: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  metadata: {name: x}\n", line: 4,
            object: "-", field: "items[0].kind",
            message: "missing items[0].kind; add the object's kind, e.g. \"kind: Pod\""),
        DocumentCase(
            name: "wrong API group",
            yaml: "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: k, namespace: n}\n", line: 2,
            object: "Service/n/k", field: "kind",
            message: "unknown kind Service in apiVersion serving.knative.dev/v1, skipped; Weft reads Service from "
                + "apiVersion v1"),
    ]

    @Test(arguments: documentCases)
    func documentLevelProblems(_ testCase: DocumentCase) throws {
        let result = load(testCase.yaml, file: "doc.yaml")
        let diagnostic = try #require(result.single, "\(result.printed)")
        #expect(diagnostic.line == testCase.line)
        #expect(diagnostic.object == testCase.object)
        #expect(diagnostic.field == testCase.field)
        #expect(diagnostic.message == testCase.message)
    }

    @Test func syntaxErrorKeepsEarlierDocuments() throws {
        let result = ManifestLoader.load(sources: [
            (name: "bad.yaml", text: podYAML("a", ip: "10.1.0.1") + "\n---\nkind: Pod\nmetadata:\n  name: [b\n"),
            (name: "good.yaml", text: podYAML("c", ip: "10.1.0.1")),
        ])
        // The pod before the error is read (so the duplicate address in good.yaml is still found).
        #expect(result.diagnostics.map(\.file) == ["bad.yaml", "good.yaml"])
        let syntax = result.diagnostics[0]
        #expect(syntax.line == 12)
        #expect(syntax.object == "-" && syntax.field == "-")
        #expect(syntax.message.hasPrefix("invalid YAML: "))
        #expect(syntax.message.hasSuffix("fix the YAML — the rest of this file was not loaded"))
        #expect(result.diagnostics[1].message.contains("already used by Pod/default/a (bad.yaml:7)"))
    }

    @Test func duplicateKeyIsASyntaxError() throws {
        let result = load("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n")
        let diagnostic = try #require(result.single)
        #expect(diagnostic.line == 4)
        #expect(diagnostic.message.hasPrefix("invalid YAML: duplicate key \"name\" in a mapping"))
    }

    @Test func duplicateObject() throws {
        let result = ManifestLoader.load(sources: [
            (name: "a.yaml", text: podYAML("web", ip: "10.1.0.1")),
            (name: "b.yaml", text: "# copy\n" + podYAML("web", ip: "10.1.0.2")),
        ])
        let diagnostic = try #require(result.single)
        #expect(
            diagnostic.description
                == "b.yaml:5: Pod/default/web: metadata.name: duplicate object: Pod/default/web is already defined "
                + "at a.yaml:4; rename or remove one of them")
    }

    @Test func sameNameDifferentKindOrNamespaceIsFine() throws {
        let result = load(
            podYAML("web", ip: "10.1.0.1") + "\n---\n" + podYAML("web", ip: "10.1.0.2", namespace: "other")
                + "\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: web}\n"
                + "spec: {address: 10.1.0.3}\n")
        #expect(result.diagnostics.isEmpty)
        #expect(result.snapshot?.workloads.count == 3)
    }

    @Test func duplicateIPAcrossFilesAndKinds() throws {
        let entry = """
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata:
              name: vm
            spec:
              address: 10.1.0.1
            """
        let result = ManifestLoader.load(sources: [
            (name: "pods.yaml", text: podYAML("web", ip: "10.1.0.1")),
            (name: "vms.yaml", text: entry),
        ])
        #expect(result.printed == [
            "vms.yaml:6: WorkloadEntry/default/vm: spec.address: address 10.1.0.1 is already used by "
                + "Pod/default/web (pods.yaml:7); every workload needs its own IP — correct or remove one of them"
        ])
        #expect(result.snapshot == nil)
    }

    @Test func diagnosticsAreSortedByFileThenLine() throws {
        let result = ManifestLoader.load(sources: [
            (name: "z.yaml", text: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"),
            (name: "a.yaml", text: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: 1}\n"
                + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"),
        ])
        #expect(result.diagnostics.map { "\($0.file):\($0.line)" } == ["a.yaml:1", "a.yaml:4", "a.yaml:7", "z.yaml:2"])
        #expect(result.diagnostics.map(\.field) == ["status.podIP", "spec.nodeName", "kind", "kind"])
    }

    @Test func unknownFieldsAndAliasesAreFine() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: web
              labels: &labels {app: web}
              uid: 1234-5678
              managedFields: [{manager: kubectl}]
            spec:
              restartPolicy: Always
              containers: [{name: c, image: nginx}]
            status: {podIP: 10.1.0.1, conditions: [{type: Ready}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {selector: *labels}
            """)
        #expect(result.diagnostics.isEmpty)
        #expect(result.snapshot?.services.first?.selector == LabelSelector(["app": "web"]))
    }
}
