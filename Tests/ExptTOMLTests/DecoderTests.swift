import XCTest
@testable import ExptTOML

/// `TOMLDecoder`: snake_case keys, unknown keys rejected with a suggestion, and every error
/// at the file, line and dotted key of the value, also after two files are layered.
final class DecoderTests: XCTestCase {
    struct Resources: Decodable, Equatable {
        var mem: Size?
        var cpus: Int?
        var gpus: Int?
    }

    struct Retry: Decodable, Equatable {
        var maxFailures: Int?
        var memoryFactor: Double?
    }

    struct Config: Decodable, Equatable {
        var command: String?
        var execPrefix: [String]?
        var resources: Resources?
        var retry: Retry?
        var env: [String: String]?
        var profiles: [String: Resources]?
        var jobs: [Job]?
    }

    struct Job: Decodable, Equatable {
        var name: String
        var tags: [String]?
        var weight: Double?
    }

    /// A domain value whose own parser rejects bad text, as sizes do in expt.toml.
    struct Size: Decodable, Equatable {
        var megabytes: Int
        init(megabytes: Int) { self.megabytes = megabytes }
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard text.hasSuffix("G"), let g = Int(text.dropLast()) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not a size like 4G")
            }
            megabytes = g * 1024
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String, file: String = "t.toml") throws -> T {
        try TOMLDecoder().decode(type, from: try TOML.parse(text, file: file))
    }

    private func decodeError<T: Decodable>(_ type: T.Type, _ text: String,
                                           file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
        do {
            let value = try decode(type, text)
            XCTFail("expected an error, decoded \(value)", file: file, line: line)
        } catch let e as TOMLError {
            return e
        } catch {
            XCTFail("not a TOMLError: \(error)", file: file, line: line)
        }
        return nil
    }

    func testDecodesSnakeCaseKeysNestedTablesArraysAndDictionaries() throws {
        let c = try decode(Config.self, """
        command = "python3 train.py"
        exec_prefix = ["ssh", "login1"]
        [resources]
        mem = "4G"
        cpus = 2
        [retry]
        max_failures = 3
        memory_factor = 2      # an integer where a number is asked
        [env]
        WANDB_MODE = "offline"
        [profiles.highmem]
        mem = "16G"
        [profiles.gpu]
        gpus = 1
        [[jobs]]
        name = "a"
        tags = ["x"]
        [[jobs]]
        name = "b"
        weight = 0.5
        """)
        XCTAssertEqual(c.command, "python3 train.py")
        XCTAssertEqual(c.execPrefix, ["ssh", "login1"])
        XCTAssertEqual(c.resources, Resources(mem: Size(megabytes: 4096), cpus: 2))
        XCTAssertEqual(c.retry, Retry(maxFailures: 3, memoryFactor: 2.0))
        XCTAssertEqual(c.env, ["WANDB_MODE": "offline"])
        XCTAssertEqual(c.profiles, ["highmem": Resources(mem: Size(megabytes: 16384)), "gpu": Resources(gpus: 1)])
        XCTAssertEqual(c.jobs?.map(\.name), ["a", "b"])
        XCTAssertEqual(c.jobs?.first?.tags, ["x"])
        XCTAssertEqual(c.jobs?.last?.weight, 0.5)
    }

    func testKeyNames() {
        XCTAssertEqual(TOMLDecoder.keyName("memoryFactor"), "memory_factor")
        XCTAssertEqual(TOMLDecoder.keyName("memory_factor"), "memory_factor")
        XCTAssertEqual(TOMLDecoder.keyName("URLPath"), "url_path")
        XCTAssertEqual(TOMLDecoder.keyName("step2Size"), "step2_size")
        XCTAssertEqual(TOMLDecoder.keyName("mem"), "mem")
    }

    func testUnknownKeyNamesLineAndSuggestion() {
        let e = decodeError(Config.self, "command = \"a\"\n\ncomand = \"b\"\n")
        XCTAssertEqual(e?.description, "t.toml:3: key 'comand': unknown key; did you mean 'command'?")
    }

    func testUnknownKeyInANestedTable() {
        let e = decodeError(Config.self, "[resources]\ncpus = 1\n\n[retry]\nmax_failure = 3\n")
        XCTAssertEqual(e?.description, "t.toml:5: key 'retry.max_failure': unknown key; did you mean 'max_failures'?")
        let far = decodeError(Config.self, "[resources]\nflavour = \"x\"\n")
        XCTAssertEqual(far?.description, "t.toml:2: key 'resources.flavour': unknown key; expected one of: cpus, gpus, mem")
        let inArray = decodeError(Config.self, "[[jobs]]\nname = \"a\"\n[[jobs]]\nname = \"b\"\nwieght = 1\n")
        XCTAssertEqual(inArray?.description, "t.toml:5: key 'jobs.wieght': unknown key; did you mean 'weight'?")
    }

    func testCamelCaseSpellingInTheFileIsUnknown() {
        let e = decodeError(Retry.self, "memoryFactor = 2.0\n")
        XCTAssertEqual(e?.description, "t.toml:1: key 'memoryFactor': unknown key; did you mean 'memory_factor'?")
    }

    func testTypeMismatchAtTheKeysLine() {
        let e = decodeError(Config.self, "\n[resources]\ncpus = \"two\"\n")
        XCTAssertEqual(e?.description, "t.toml:3: key 'resources.cpus': expected an integer, found a string")
        XCTAssertEqual(decodeError(Config.self, "exec_prefix = \"ssh login1\"\n")?.description,
                       "t.toml:1: key 'exec_prefix': expected an array of strings, found a string")
        XCTAssertEqual(decodeError(Config.self, "exec_prefix = [\"ssh\", 1]\n")?.description,
                       "t.toml:1: key 'exec_prefix': expected an array of strings, found an integer at index 1")
        XCTAssertEqual(decodeError(Config.self, "[[resources]]\ncpus = 1\n")?.description,
                       "t.toml:1: key 'resources': expected a table, found an array of tables")
        XCTAssertEqual(decodeError(Config.self, "[env]\nA = \"1\"\nB = 2\n")?.description,
                       "t.toml:3: key 'env.B': expected a string, found an integer")
        XCTAssertEqual(decodeError(Retry.self, "memory_factor = \"lots\"\n")?.description,
                       "t.toml:1: key 'memory_factor': expected a number, found a string")
    }

    func testMissingRequiredKeyPointsAtTheTable() {
        let e = decodeError(Config.self, "command = \"a\"\n[[jobs]]\ntags = []\n")
        XCTAssertEqual(e?.description, "t.toml:2: key 'jobs.name': missing required key")
    }

    func testDataCorruptedFromACustomTypeIsAtItsKey() {
        let e = decodeError(Config.self, "[resources]\ncpus = 1\nmem = \"8 gigs\"\n")
        XCTAssertEqual(e?.description, "t.toml:3: key 'resources.mem': '8 gigs' is not a size like 4G")
        let inProfile = decodeError(Config.self, "[profiles.big]\n\nmem = \"lots\"\n")
        XCTAssertEqual(inProfile?.description, "t.toml:3: key 'profiles.big.mem': 'lots' is not a size like 4G")
    }

    func testKeyedDataCorruptedPointsAtThatKey() {
        struct Bands: Decodable {
            var low: Double
            var high: Double
            enum CodingKeys: String, CodingKey { case low, high }
            init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                low = try c.decode(Double.self, forKey: .low)
                high = try c.decode(Double.self, forKey: .high)
                if high < low { throw DecodingError.dataCorruptedError(forKey: .high, in: c, debugDescription: "must be at least low") }
            }
        }
        struct Doc: Decodable { var bands: Bands }
        let e = decodeError(Doc.self, "[bands]\nlow = 0.5\nhigh = 0.1\n")
        XCTAssertEqual(e?.description, "t.toml:3: key 'bands.high': must be at least low")
    }

    func testOverlayMergesKeyByKeyAndKeepsProvenance() throws {
        let base = try TOML.parse("command = \"a\"\n[resources]\ncpus = 2\nmem = \"4G\"\n[env]\nA = \"1\"\n", file: "root/expt.toml")
        let top = try TOML.parse("[resources]\n\nmem = \"8G\"\n[env]\nB = \"2\"\n", file: "wt/expt.toml")
        let merged = base.overlaid(by: top)
        let c = try TOMLDecoder().decode(Config.self, from: merged)
        XCTAssertEqual(c.command, "a")
        XCTAssertEqual(c.resources, Resources(mem: Size(megabytes: 8192), cpus: 2))
        XCTAssertEqual(c.env, ["A": "1", "B": "2"])
        let resources = try XCTUnwrap(merged.table("resources"))
        XCTAssertEqual(resources.file(of: "mem"), "wt/expt.toml")
        XCTAssertEqual(resources.line(of: "mem"), 3)
        XCTAssertEqual(resources.file(of: "cpus"), "root/expt.toml")
    }

    func testErrorsInTheSecondFileNameTheSecondFile() throws {
        let base = try TOML.parse("command = \"a\"\n[resources]\ncpus = 2\n", file: "root/expt.toml")
        let bad = try TOML.parse("\n[resources]\ncpus = \"four\"\n", file: "wt/expt.toml")
        XCTAssertThrowsError(try TOMLDecoder().decode(Config.self, from: base.overlaid(by: bad))) {
            XCTAssertEqual("\($0)", "wt/expt.toml:3: key 'resources.cpus': expected an integer, found a string")
        }
        let typo = try TOML.parse("[retry]\nmax_failures = 1\n\nmemory_facter = 2\n", file: "wt/expt.toml")
        XCTAssertThrowsError(try TOMLDecoder().decode(Config.self, from: base.overlaid(by: typo))) {
            XCTAssertEqual("\($0)", "wt/expt.toml:4: key 'retry.memory_facter': unknown key; did you mean 'memory_factor'?")
        }
        let topLevel = try TOML.parse("comand = \"b\"\n", file: "wt/expt.toml")
        XCTAssertThrowsError(try TOMLDecoder().decode(Config.self, from: base.overlaid(by: topLevel))) {
            XCTAssertEqual("\($0)", "wt/expt.toml:1: key 'comand': unknown key; did you mean 'command'?")
        }
    }

    func testOverlayReplacesNonTablesAndKeepsBaseOnlyKeysWhereTheyWere() throws {
        let base = try TOML.parse("a = [1, 2]\nb = 1\n[t]\nx = 1\n", file: "one.toml")
        let top = try TOML.parse("a = [3]\nt = { y = 2 }\n", file: "two.toml")
        let merged = base.overlaid(by: top)
        XCTAssertEqual(merged["a"], .array([.integer(3)]))
        XCTAssertEqual(merged["b"], .integer(1))
        XCTAssertEqual(merged.file(of: "b"), "one.toml")
        XCTAssertEqual(merged.file(of: "a"), "two.toml")
        let t = try XCTUnwrap(merged.table("t"))
        XCTAssertEqual(try t.int("x"), 1)
        XCTAssertEqual(try t.int("y"), 2)
        XCTAssertEqual(t.file(of: "y"), "two.toml")
        XCTAssertEqual(t.error("m", key: "x").description, "one.toml:4: key 't.x': m")
    }

    func testDictionaryKeysAreAllKnownAndKeepTheirSpelling() throws {
        struct Doc: Decodable { var profiles: [String: Resources] }
        let d = try decode(Doc.self, "[profiles.highMem]\ncpus = 8\n[profiles.GPU_big]\ngpus = 4\n")
        XCTAssertEqual(d.profiles, ["highMem": Resources(cpus: 8), "GPU_big": Resources(gpus: 4)])
        let e = decodeError(Doc.self, "[profiles.big]\ncpu = 8\n")
        XCTAssertEqual(e?.description, "t.toml:2: key 'profiles.big.cpu': unknown key; did you mean 'cpus'?")
        let notTable = decodeError(Doc.self, "[profiles]\nbig = 3\n")
        XCTAssertEqual(notTable?.description, "t.toml:2: key 'profiles.big': expected a table, found an integer")
    }

    func testContainsMarksAKeyKnown() throws {
        struct Doc: Decodable {
            var command: String?
            init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: AnyCodingKey.self)
                command = try c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "command"))
                _ = c.contains(AnyCodingKey(stringValue: "slurm"))
            }
        }
        XCTAssertEqual(try decode(Doc.self, "command = \"a\"\n[slurm]\npartition = \"gpu\"\n").command, "a")
        XCTAssertThrowsError(try decode(Doc.self, "[slrum]\n")) {
            XCTAssertEqual("\($0)", "t.toml:1: key 'slrum': unknown key; did you mean 'slurm'?")
        }
    }

    func testIntegersAndRanges() throws {
        struct Doc: Decodable { var small: Int8?; var count: UInt?; var ratio: Float? }
        XCTAssertEqual(try decode(Doc.self, "small = -3\ncount = 7\nratio = 1\n").small, -3)
        XCTAssertEqual(decodeError(Doc.self, "small = 300\n")?.description, "t.toml:1: key 'small': integer 300 does not fit in 8 bits")
        XCTAssertEqual(decodeError(Doc.self, "count = -1\n")?.description, "t.toml:1: key 'count': integer -1 does not fit in unsigned 64 bits")
        XCTAssertEqual(decodeError(Doc.self, "ratio = true\n")?.description, "t.toml:1: key 'ratio': expected a number, found a boolean")
    }

    func testArraysOfScalars() throws {
        struct Doc: Decodable { var sizes: [Int]; var flags: [Bool]? }
        XCTAssertEqual(try decode(Doc.self, "sizes = [1, 2, 3]\nflags = [true]\n").sizes, [1, 2, 3])
        XCTAssertEqual(decodeError(Doc.self, "sizes = [1, \"2\"]\n")?.description,
                       "t.toml:1: key 'sizes': expected an integer, found a string at index 1")
        XCTAssertEqual(decodeError(Doc.self, "sizes = 1\n")?.description,
                       "t.toml:1: key 'sizes': expected an array, found an integer")
    }
}
