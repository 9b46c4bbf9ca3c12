import Foundation
import ExptModel

/// A size: a string like "4G" or "512M", or an integer number of MiB.
struct Megabytes: Decodable, Equatable {
    var value: Int

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let mb = try? c.decode(Int.self) {
            guard mb > 0 else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(mb) is not a size like 4G or 512M") }
            value = mb
            return
        }
        let text = try c.decode(String.self)
        guard let mb = Units.megabytes(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: Units.sizeProblem(text))
        }
        value = mb
    }
}

/// A duration, written as a string like "01:30:00" or "90m".
struct Seconds: Decodable, Equatable {
    var value: Int

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let s = Units.seconds(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not a time like 01:30:00 or 90m")
        }
        value = s
    }
}

/// An array range, e.g. "0-99%10" (`ArraySpec.parse`).
struct ArrayRange: Decodable {
    var spec: ArraySpec

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let spec = ArraySpec.parse(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not an array range like 0-9 or 0-99%10")
        }
        self.spec = spec
    }
}
