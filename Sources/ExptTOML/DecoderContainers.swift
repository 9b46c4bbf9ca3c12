/// The three containers of `TOMLDecoder`. Every scalar goes through
/// `ValueDecoder.unbox`, so all of them report errors the same way.

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let table: TOMLTable
    /// This table's entry in the decoding state, where asked keys are recorded.
    let entry: Int

    var codingPath: [CodingKey] { decoder.codingPath }

    /// Listing the keys (as dictionary decoding does) makes all of them known.
    var allKeys: [Key] {
        decoder.state.list(entry)
        return table.keys.compactMap { Key(stringValue: $0) }
    }

    /// A listed key is the file's own spelling (a dictionary key, e.g. `WANDB_MODE`);
    /// any other is a property name, read in snake_case.
    func name(_ key: Key) -> String {
        let raw = key.stringValue
        if decoder.state.isListed(entry), table[raw] != nil { return raw }
        return TOMLDecoder.keyName(raw)
    }

    func contains(_ key: Key) -> Bool {
        let n = name(key)
        decoder.state.ask(n, in: entry)
        return table[n] != nil
    }

    /// TOML has no null: only an absent key reads as nil.
    func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }

    func child(_ key: Key) throws -> ValueDecoder {
        try child(named: name(key), key: key)
    }

    func child(named n: String, key: CodingKey) throws -> ValueDecoder {
        decoder.state.ask(n, in: entry)
        guard let value = table[n] else { throw table.error("missing required key", key: n) }
        return decoder.child(value, name: n, in: table, key: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).unbox(type) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).unbox(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).unbox(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).unbox(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).unbox(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).unbox(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).unbox(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).unbox(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).unbox(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).unbox(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).unbox(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).unbox(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).unbox(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).unbox(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).unbox(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type,
                                               forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder { try child(named: "super", key: AnyCodingKey(stringValue: "super")) }

    func superDecoder(forKey key: Key) throws -> Decoder { try child(key) }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [TOMLValue]
    var currentIndex = 0

    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func decodeNil() throws -> Bool { false }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw decoder.location.error("expected more than \(elements.count) element\(elements.count == 1 ? "" : "s")")
        }
        let element = decoder.element(elements[currentIndex], index: currentIndex)
        currentIndex += 1
        return element
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().unbox(type) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().unbox(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next().unbox(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().unbox(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next().unbox(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().unbox(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().unbox(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().unbox(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().unbox(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().unbox(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().unbox(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().unbox(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().unbox(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().unbox(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().unbox(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> Decoder { try next() }
}

struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder

    var codingPath: [CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(type) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.unbox(type) }
    func decode(_ type: String.Type) throws -> String { try decoder.unbox(type) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.unbox(type) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.unbox(type) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.unbox(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.unbox(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.unbox(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.unbox(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.unbox(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.unbox(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.unbox(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.unbox(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.unbox(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.unbox(type) }
}
