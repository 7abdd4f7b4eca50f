// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import Testing
import WeftConfig
import WeftModel

@Suite struct FileLoadingTests {
    @Test func directoryIsLoadedRecursivelyInPathOrder() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        try write(podYAML("b", ip: "10.1.0.2"), to: "b.yaml", in: directory)
        try write(podYAML("a", ip: "10.1.0.1"), to: "a.yml", in: directory)
        try write(podYAML("c", ip: "10.1.0.3"), to: "nested/deeper/c.YAML", in: directory)
        try write(podYAML("ignored", ip: "10.1.0.4"), to: "notes.txt", in: directory)
        try write(podYAML("hidden", ip: "10.1.0.5"), to: ".hidden.yaml", in: directory)
        try write(podYAML("configmap-copy", ip: "10.1.0.6"), to: "..data/a.yaml", in: directory)

        let result = ManifestLoader.load(paths: [directory + "/"])
        #expect(result.diagnostics.isEmpty, "\(result.printed)")
        #expect(result.snapshot?.workloads.map(\.name) == ["a", "b", "c"])
    }

    @Test func explicitFileIsReadWhateverItsExtension() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        try write(podYAML("x", ip: "10.1.0.1"), to: "pod.txt", in: directory)
        let result = ManifestLoader.load(paths: [directory + "/pod.txt", directory + "/pod.txt"])
        #expect(result.diagnostics.isEmpty)
        #expect(result.snapshot?.workloads.map(\.name) == ["x"])
    }

    @Test func missingPathIsAnErrorAtLineZero() throws {
        let result = ManifestLoader.load(paths: ["/nonexistent/weft/manifests.yaml"])
        #expect(result.printed == [
            "/nonexistent/weft/manifests.yaml:0: -: -: cannot read: no such file or directory; check the path"
        ])
        #expect(result.hasErrors)
        #expect(result.snapshot == nil)
    }

    @Test func emptyDirectoryIsAWarning() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        let result = ManifestLoader.load(paths: [directory])
        let diagnostic = try #require(result.single)
        #expect(diagnostic.severity == .warning)
        #expect(diagnostic.line == 0)
        #expect(result.snapshot?.workloads.isEmpty == true)
    }

    @Test func invalidUTF8IsAnError() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        let path = directory + "/binary.yaml"
        #expect(FileManager.default.createFile(atPath: path, contents: Data([0x6B, 0x3A, 0xFF, 0xFE, 0x0A])))
        let result = ManifestLoader.load(paths: [path])
        #expect(result.printed == ["\(path):0: -: -: file is not valid UTF-8 text; save it as UTF-8"])
    }

    @Test func syntaxErrorInOneFileWhileAnotherStillLoads() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        let broken = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\n\tstatus: {}\n"
        try write(broken, to: "1-bad.yaml", in: directory)
        try write(podYAML("good", ip: "10.1.0.1"), to: "2-good.yaml", in: directory)
        try write(podYAML("bad-ip", ip: "10.1.0.999"), to: "3-worse.yaml", in: directory)

        let result = ManifestLoader.load(paths: [directory])
        #expect(result.diagnostics.map(\.file) == [directory + "/1-bad.yaml", directory + "/3-worse.yaml"])
        #expect(result.diagnostics.map(\.line) == [5, 7])
        #expect(result.diagnostics[0].message.hasPrefix("invalid YAML: "))
        #expect(result.diagnostics[1].field == "status.podIP")
        #expect(result.snapshot == nil)

        // Once the broken files are fixed, the same directory gives a snapshot.
        try write(podYAML("fixed", ip: "10.1.0.2"), to: "1-bad.yaml", in: directory)
        try write(podYAML("bad-ip", ip: "10.1.0.9"), to: "3-worse.yaml", in: directory)
        let fixed = ManifestLoader.load(paths: [directory])
        #expect(fixed.diagnostics.isEmpty)
        #expect(fixed.snapshot?.workloads.map(\.name) == ["fixed", "good", "bad-ip"])
    }

    @Test func duplicateIPAcrossFilesNamesTheFirstFileAndLine() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        try write(podYAML("one", ip: "10.1.0.1"), to: "a.yaml", in: directory)
        try write("\n" + podYAML("two", ip: "10.1.0.1", namespace: "other"), to: "b/two.yaml", in: directory)
        let result = ManifestLoader.load(paths: [directory])
        let diagnostic = try #require(result.single)
        #expect(diagnostic.file == directory + "/b/two.yaml")
        #expect(diagnostic.line == 8)
        #expect(diagnostic.object == "Pod/other/two")
        #expect(diagnostic.field == "status.podIP")
        let expected = "address 10.1.0.1 is already used by Pod/default/one (\(directory)/a.yaml:7)"
        #expect(diagnostic.message.hasPrefix(expected))
    }

    @Test func pathsAreLoadedInTheOrderGivenAndFilesKeepTheirNames() throws {
        let (directory, remove) = try makeTemporaryDirectory()
        defer { remove() }
        try write(podYAML("z", ip: "10.1.0.1"), to: "z.yaml", in: directory)
        try write(podYAML("y", ip: "10.1.0.2"), to: "dir/y.yaml", in: directory)
        let result = ManifestLoader.load(paths: [directory + "/z.yaml", directory + "/dir"])
        #expect(result.diagnostics.isEmpty)
        #expect(result.snapshot?.workloads.map(\.name) == ["z", "y"])
    }
}
