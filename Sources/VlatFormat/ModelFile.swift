/// The model file: an architecture description (JSON), named tensors, and a SHA-256 of
/// everything before it. That digest is the model's identity: `.vlat` files name the model
/// that encoded them by it. Layout (all integers little-endian):
///
///     8    magic "VLATMODL"
///     4    u32 format version (2; version 1 is still read)
///     4    u32 JSON length J, then J bytes of UTF-8 JSON (architecture and metadata)
///     4    u32 tensor count T, then T times:
///            2  u16 name length L, L bytes of UTF-8 name
///            1  u8 rank R (1...6), R x u32 dimensions
///            1  u8 storage: 0 float32, 1 float16 (IEEE binary16)   [version 2 only]
///            prod(dims) values of 4 or 2 bytes (version 1: always float32)
///     32   SHA-256 of all preceding bytes
///
/// The same layout stores training checkpoints (with optimizer state as extra tensors, always
/// float32 so that a resumed run continues bit for bit). Shipped codec models store their
/// weights as float16: half the size, and both ends of a transfer use the same rounded weights.
public struct ModelFile: Sendable, Equatable {
    /// How a tensor's values are stored in the file.
    public enum Storage: UInt8, Sendable {
        case float32 = 0
        case float16 = 1

        var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        /// The values as the file gives them back: float16 entries hold float16-rounded values.
        public var values: [Float]
        public var storage: Storage

        /// A float16 entry rounds its values now (to nearest even), so that an entry equals its
        /// parsed copy. Values outside float16's finite range (|v| > 65504) or not finite keep
        /// float32 storage: rounding must never turn a weight into infinity.
        public init(name: String, shape: [Int], values: [Float], storage: Storage = .float32) {
            precondition(shape.reduce(1, *) == values.count)
            self.name = name
            self.shape = shape
            if storage == .float16 && values.allSatisfy({ Float16($0).isFinite }) {
                self.values = values.map { Float(Float16($0)) }
                self.storage = .float16
            } else {
                self.values = values
                self.storage = .float32
            }
        }
    }

    public static let magic = Array("VLATMODL".utf8)
    /// The version written; `parse` reads this and every earlier one.
    public static let version: UInt32 = 2

    public var json: String
    public var tensors: [Entry]

    public init(json: String, tensors: [Entry]) {
        self.json = json
        self.tensors = tensors
    }

    public subscript(name: String) -> Entry? { tensors.first { $0.name == name } }

    public func serialized() -> [UInt8] {
        var w = ByteWriter()
        w.append(Self.magic)
        w.u32(Self.version)
        let jsonBytes = Array(json.utf8)
        w.u32(UInt32(jsonBytes.count))
        w.append(jsonBytes)
        w.u32(UInt32(tensors.count))
        for t in tensors {
            let name = Array(t.name.utf8)
            w.u16(UInt16(name.count))
            w.append(name)
            w.u8(UInt8(t.shape.count))
            for d in t.shape { w.u32(UInt32(d)) }
            w.u8(t.storage.rawValue)
            w.bytes.reserveCapacity(w.bytes.count + t.storage.byteCount * t.values.count + 64)
            switch t.storage {
            case .float32: for v in t.values { w.u32(v.bitPattern) }
            case .float16: for v in t.values { w.u16(Float16(v).bitPattern) }
            }
        }
        w.append(SHA256.hash(w.bytes))
        return w.bytes
    }

    /// The identity of a serialized model: its trailing SHA-256.
    public static func digest(of bytes: [UInt8]) -> [UInt8] { Array(bytes.suffix(32)) }

    /// Parses and verifies a model file; any damage is a `ModelFileError`.
    public static func parse(_ bytes: [UInt8]) throws -> ModelFile {
        guard bytes.count >= 8 + 4 + 4 + 4 + 32, Array(bytes[0..<8]) == magic else { throw ModelFileError.notAModel }
        let body = bytes.count - 32
        guard SHA256.hash(bytes[0..<body]) == Array(bytes[body...]) else { throw ModelFileError.digestMismatch }
        var r = ByteCursor(bytes, from: 8, to: body)
        do {
            let version = try r.u32()
            guard (1...Self.version).contains(version) else { throw ModelFileError.unsupportedVersion(Int(version)) }
            let jsonLength = Int(try r.u32())
            guard jsonLength <= r.remaining else { throw ModelFileError.malformed("JSON length \(jsonLength)") }
            guard let json = String(validating: try r.take(jsonLength), as: UTF8.self) else {
                throw ModelFileError.malformed("JSON is not UTF-8")
            }
            let count = Int(try r.u32())
            var tensors: [Entry] = []
            for _ in 0..<count {
                let nameLength = Int(try r.u16())
                guard let name = String(validating: try r.take(nameLength), as: UTF8.self) else {
                    throw ModelFileError.malformed("tensor name is not UTF-8")
                }
                let rank = Int(try r.u8())
                guard (1...6).contains(rank) else { throw ModelFileError.malformed("tensor '\(name)' has rank \(rank)") }
                var shape: [Int] = []
                var elements = 1
                for _ in 0..<rank {
                    let d = Int(try r.u32())
                    shape.append(d)
                    elements = elements.multipliedReportingOverflow(by: d).overflow ? Int.max : elements * d
                }
                var storage = Storage.float32
                if version >= 2 {
                    let code = try r.u8()
                    guard let s = Storage(rawValue: code) else { throw ModelFileError.malformed("tensor '\(name)' has storage code \(code)") }
                    storage = s
                }
                guard elements <= r.remaining / storage.byteCount else {
                    throw ModelFileError.malformed("tensor '\(name)' \(shape) is larger than the file")
                }
                var values = [Float](repeating: 0, count: elements)
                switch storage {
                case .float32: for i in 0..<elements { values[i] = Float(bitPattern: try r.u32()) }
                case .float16: for i in 0..<elements { values[i] = Float(Float16(bitPattern: try r.u16())) }
                }
                tensors.append(Entry(name: name, shape: shape, values: values, storage: storage))
            }
            guard r.remaining == 0 else { throw ModelFileError.malformed("\(r.remaining) unexpected bytes") }
            return ModelFile(json: json, tensors: tensors)
        } catch let error as ContainerError {
            throw ModelFileError.malformed("\(error)")
        }
    }
}

/// Why bytes are not a usable model file.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
    case notAModel
    case digestMismatch
    case unsupportedVersion(Int)
    case malformed(String)
    case incompatible(String)

    public var description: String {
        switch self {
        case .notAModel: return "not a vlat model file"
        case .digestMismatch: return "model file is corrupt (SHA-256 mismatch)"
        case .unsupportedVersion(let v): return "model file version \(v) is not supported"
        case .malformed(let s): return "malformed model file: \(s)"
        case .incompatible(let s): return s
        }
    }
}
