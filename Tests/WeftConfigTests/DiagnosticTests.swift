// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Testing
import WeftConfig

@Suite struct DiagnosticTests {
    @Test func errorDescriptionFormat() {
        let diagnostic = Diagnostic(
            severity: .error, file: "a.yaml", line: 12, object: "Service/default/web",
            field: "spec.ports[0].port", message: "must be an integer between 1 and 65535, got \"http\"")
        #expect(
            diagnostic.description
                == "a.yaml:12: Service/default/web: spec.ports[0].port: "
                + "must be an integer between 1 and 65535, got \"http\"")
    }

    @Test func warningDescriptionFormat() {
        let diagnostic = Diagnostic(
            severity: .warning, file: "m/x.yml", line: 3, object: "Deployment/web", field: "kind",
            message: "unknown kind Deployment, skipped")
        #expect(diagnostic.description == "m/x.yml:3: Deployment/web: kind: warning: unknown kind Deployment, skipped")
    }

    @Test func defaultsForUnknownObjectAndField() {
        let diagnostic = Diagnostic(severity: .error, file: "gone.yaml", line: 0, message: "cannot read")
        #expect(diagnostic.description == "gone.yaml:0: -: -: cannot read")
    }

    @Test func loadedErrorPrintsExactly() throws {
        let result = load(
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
              - port: http
            """, file: "svc.yaml")
        let diagnostic = try #require(result.single)
        #expect(
            diagnostic.description
                == "svc.yaml:7: Service/default/web: spec.ports[0].port: "
                + "must be an integer between 1 and 65535, got \"http\"")
        #expect(result.hasErrors)
        #expect(result.snapshot == nil)
    }

    @Test func loadedWarningPrintsExactly() throws {
        let result = load(
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: shop
            """, file: "deploy.yaml")
        #expect(
            result.printed == ["deploy.yaml:2: Deployment/shop/web: kind: warning: unknown kind Deployment, skipped"])
        #expect(!result.hasErrors)
        #expect(result.snapshot != nil)
    }
}
