// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation
import WeftConfig
import WeftModel

/// Loads one in-memory manifest named `file`.
func load(_ text: String, file: String = "test.yaml") -> ManifestLoadResult {
    ManifestLoader.load(sources: [(name: file, text: text)])
}

/// Parses an IP address literal, crashing the test on a typo in the test itself.
func ip(_ text: String) -> IPAddress {
    guard let address = IPAddress(text) else { fatalError("bad IP literal in test: \(text)") }
    return address
}

extension ManifestLoadResult {
    /// The only diagnostic, for tests that expect exactly one.
    var single: Diagnostic? { diagnostics.count == 1 ? diagnostics[0] : nil }

    /// The diagnostics as their printed lines, for readable failures.
    var printed: [String] { diagnostics.map(\.description) }
}

/// A fresh temporary directory, removed when the returned closure is called.
func makeTemporaryDirectory() throws -> (path: String, remove: () -> Void) {
    let path = NSTemporaryDirectory() + "weftconfig-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return (path, { try? FileManager.default.removeItem(atPath: path) })
}

/// Writes `text` to `directory/relative`, creating intermediate directories.
func write(_ text: String, to relative: String, in directory: String) throws {
    let path = directory + "/" + relative
    let parent = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// A minimal valid pod manifest.
func podYAML(_ name: String, ip: String, namespace: String = "default") -> String {
    """
    apiVersion: v1
    kind: Pod
    metadata:
      name: \(name)
      namespace: \(namespace)
    status:
      podIP: \(ip)
    """
}
