// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.

import Foundation

/// Turns the paths an operator gave into (file name, text) sources, reporting paths that cannot be read.
///
/// A file is read whatever its extension. A directory is searched recursively for `*.yaml` and `*.yml`
/// files, in path order; entries whose names start with `.` are skipped, which also keeps the `..data`
/// and timestamped copies of a Kubernetes ConfigMap volume from being read twice.
enum ManifestFileCollector {
    static func sources(paths: [String], log: DiagnosticLog) -> [(name: String, text: String)] {
        var files: [String] = []
        var seen: Set<String> = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                log.error(file: path, line: 0, "cannot read: no such file or directory; check the path")
                continue
            }
            let found = isDirectory.boolValue ? manifestFiles(inDirectory: path, log: log) : [path]
            if isDirectory.boolValue && found.isEmpty {
                log.warning(file: path, line: 0, "directory has no *.yaml or *.yml files; nothing was loaded from it")
            }
            for file in found where seen.insert(canonical(file)).inserted {
                files.append(file)
            }
        }
        return files.compactMap { file in read(file, log: log).map { (file, $0) } }
    }

    /// The `*.yaml` and `*.yml` files below `directory`, sorted by path. Symbolic links are followed,
    /// each real directory once.
    static func manifestFiles(inDirectory directory: String, log: DiagnosticLog) -> [String] {
        var visited: Set<String> = []
        var result: [String] = []
        var pending = [directory]
        while let current = pending.popLast() {
            guard visited.insert(canonical(current)).inserted else { continue }
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: current)
            } catch {
                log.error(file: current, line: 0, "cannot list directory: \(reason(error)); check its permissions")
                continue
            }
            for entry in entries where !entry.hasPrefix(".") {
                let path = current.hasSuffix("/") ? current + entry : current + "/" + entry
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    pending.append(path)
                } else if [".yaml", ".yml"].contains(where: { entry.lowercased().hasSuffix($0) }) {
                    result.append(path)
                }
            }
        }
        return result.sorted()
    }

    /// The text of a file, or `nil` after reporting why it cannot be read.
    static func read(_ path: String, log: DiagnosticLog) -> String? {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            log.error(file: path, line: 0, "cannot read file: \(reason(error)); check that it exists and is readable")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            log.error(file: path, line: 0, "file is not valid UTF-8 text; save it as UTF-8")
            return nil
        }
        return text
    }

    /// The path with symbolic links resolved, to recognize the same file given twice.
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path
    }

    /// A short reason for a file system error.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? CocoaError else { return error.localizedDescription }
        switch error.code {
        case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission: return "permission denied"
        default: return error.localizedDescription
        }
    }
}
