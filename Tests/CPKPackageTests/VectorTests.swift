import CPKCore
import CPKFormat
import CPKPackage
import Foundation
import XCTest

/// The conformance vectors of Tests/vectors (written by make_vectors.py, independently of this
/// code): every vector read through the library's readers, and each reader's verdict held to the
/// vector's `.expect` line. The grammar of that line is in Tests/vectors/README.md.
final class VectorTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("vectors")

    /// One `.expect` line: `accept|reject FIELD=VALUE... ; CITATIONS: REASON`.
    struct Expectation {
        let accept: Bool
        var fields: [(String, String)]
        let citation: String

        init(line: String, file: String) throws {
            let parts = line.components(separatedBy: " ; ")
            guard parts.count == 2 else { throw CPKError.invalid("\(file): no \" ; \" in the expect line") }
            var words = parts[0].split(separator: " ").map(String.init)
            guard let verdict = words.first, verdict == "accept" || verdict == "reject" else {
                throw CPKError.invalid("\(file): the expect line starts neither accept nor reject")
            }
            accept = verdict == "accept"
            words.removeFirst()
            fields = try words.map { word in
                guard let equals = word.firstIndex(of: "=") else { throw CPKError.invalid("\(file): field \(word)") }
                return (String(word[..<equals]), String(word[word.index(after: equals)...]))
            }
            citation = parts[1]
        }

        /// The fields a reader must report, without the context fields (`sizes`).
        var checked: [(String, String)] { fields.filter { $0.0 != "sizes" } }
    }

    struct Vector {
        let url: URL
        let expectation: Expectation
        var name: String { url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent }
    }

    func vectors(_ kind: String, _ suffix: String) throws -> [Vector] {
        let directory = Self.root.appendingPathComponent(kind)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix("." + suffix) }
        let found = try names.sorted().map { name -> Vector in
            let url = directory.appendingPathComponent(name)
            let expect = url.deletingPathExtension().appendingPathExtension("expect")
            let line = try String(contentsOf: expect, encoding: .utf8).trimmingCharacters(in: .newlines)
            return Vector(url: url, expectation: try Expectation(line: line, file: expect.lastPathComponent))
        }
        // A missing or emptied directory must fail, not pass vacuously.
        XCTAssertGreaterThan(found.count, 10, "too few vectors in \(directory.path)")
        XCTAssertTrue(found.contains { $0.expectation.accept } && found.contains { !$0.expectation.accept })
        return found
    }

    /// A summary value as an expect line writes it: text as is, numbers in decimal, `null`,
    /// arrays of those joined by commas; `streams` is the number of streams.
    static func rendered(_ key: String, _ value: JSONValue?) -> String? {
        if key == "streams", case .array(let items)? = value { return String(items.count) }
        switch value {
        case .string(let text)?: return text
        case .number(let literal)?: return literal
        case .null?: return "null"
        case .bool(let flag)?: return flag ? "true" : "false"
        case .array(let items)?: return items.map { rendered("", $0) ?? "?" }.joined(separator: ",")
        default: return nil
        }
    }

    /// Reads a package or envelope to its end, as `cpk-unpack info` does, and returns the summary.
    func summary(of vector: Vector) throws -> JSONValue {
        try PackageSummary(reading: openPackage(vector.url.path)).json
    }

    func check(_ vector: Vector, read: () throws -> (String) -> String?) {
        let expectation = vector.expectation
        do {
            let field = try read()
            guard expectation.accept else {
                return XCTFail("\(vector.name) was accepted; expected: reject \(expectation.citation)")
            }
            for (key, value) in expectation.checked {
                XCTAssertEqual(field(key), value, "\(vector.name): \(key)")
            }
        } catch let error as CPKError {
            if expectation.accept {
                return XCTFail("\(vector.name) was rejected (\(error.message)); expected: accept \(expectation.citation)")
            }
            // Every rule violated by a vector is invalid input (exit status 1), told in one line.
            XCTAssertEqual(error.kind, .invalidInput, "\(vector.name): \(error.message)")
            XCTAssertFalse(error.message.contains("\n"), "\(vector.name): a message is one line")
        } catch {
            XCTFail("\(vector.name): not a CPKError: \(error)")
        }
    }

    func testFormatVectors() throws {
        for vector in try vectors("format", "cpk") {
            check(vector) {
                let json = try summary(of: vector)
                return { Self.rendered($0, json[$0]) }
            }
        }
    }

    func testEnvelopeVectors() throws {
        for vector in try vectors("envelope", "cbor") {
            check(vector) {
                let json = try summary(of: vector)
                return { Self.rendered($0, json[$0]) }
            }
        }
    }

    /// A manifest vector is read as the manifest stream of a package whose streams have the
    /// sizes of its `sizes` field (`M` marks the manifest): the manifest rules, then consistency.
    func testManifestVectors() throws {
        for vector in try vectors("manifest", "json") {
            let bytes = try [UInt8](Data(contentsOf: vector.url))
            guard let sizes = vector.expectation.fields.first(where: { $0.0 == "sizes" })?.1 else {
                XCTFail("\(vector.name): no sizes field"); continue
            }
            let entries = sizes.split(separator: ",").map(String.init)
            guard let manifestIndex = entries.firstIndex(of: "M") else {
                XCTFail("\(vector.name): no M in sizes"); continue
            }
            let streamSizes: [UInt64?] = entries.map { $0 == "M" ? UInt64(bytes.count) : UInt64($0) }
            check(vector) {
                let manifest = try Manifest(encoded: bytes)
                try manifest.checkConsistency(streamSizes: streamSizes, manifestIndex: manifestIndex)
                let fields = [
                    "id": manifest.id, "name": manifest.name, "vendor": manifest.vendor,
                    "version": manifest.payload.version.dotted,
                ]
                return { fields[$0] }
            }
        }
    }

    /// The generator is the source of the vectors: every vector has its expect line and
    /// nothing else lies in the vector directories.
    func testEveryVectorHasAnExpectLine() throws {
        for (kind, suffix) in [("format", "cpk"), ("envelope", "cbor"), ("manifest", "json")] {
            let directory = Self.root.appendingPathComponent(kind)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            let data = Set(names.filter { $0.hasSuffix("." + suffix) }.map { String($0.dropLast(suffix.count + 1)) })
            let expects = Set(names.filter { $0.hasSuffix(".expect") }.map { String($0.dropLast(7)) })
            XCTAssertEqual(data, expects, kind)
            XCTAssertEqual(Set(names).count, data.count + expects.count, "\(kind): a file that is neither vector nor expect line")
        }
    }
}
