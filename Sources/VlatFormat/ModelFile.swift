/// The model file: an architecture description (JSON), named tensors, and a SHA-256 of
/// everything before it. That digest is the model's identity: `.vlat` files name the model
/// that encoded them by it. Layout (all integers little-endian):
///
///     8    magic "VLATMODL"
///     4    u32 format version (2, or 4 when compressed; versions 1 and 3 are still read)
///          versions 3 and 4 only: u64 body length B, then one zstd frame that decodes to B
///          bytes, which hold what follows here in versions 1 and 2
///     4    u32 JSON length J, then J bytes of UTF-8 JSON (architecture and metadata)
///     4    u32 tensor count T, then T times:
///            2  u16 name length L, L bytes of UTF-8 name
///            1  u8 rank R (1...6), R x u32 dimensions
///            1  u8 storage: 0 float32, 1 float16 (IEEE binary16)   [versions 2 to 4]
///            prod(dims) values of 4 or 2 bytes (version 1: always float32); in version 4 a
///            float16 tensor's values are two byte planes, every value's low byte, then every
///            value's high byte (sign, exponent and top mantissa bits, which zstd compresses
///            far better apart from the nearly random low bytes)
///     32   SHA-256 of all preceding bytes (as stored)
///
/// The same layout stores training checkpoints (with optimizer state as extra tensors, always
/// float32 so that a resumed run continues bit for bit, uncompressed so that saving is fast).
/// Shipped codec models store their weights as float16, compressed: both ends of a transfer
/// use the same rounded weights, and the package stays small.
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

        /// An entry whose values are already what `storage` holds (as parsed from a file).
        init(name: String, shape: [Int], stored values: [Float], storage: Storage) {
            (self.name, self.shape, self.values, self.storage) = (name, shape, values, storage)
        }
    }

    /// float16 bit patterns widened to float32, all 65536 of them: a table lookup is several
    /// times faster than converting each weight of a large model one by one in software.
    static let float16Table: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }

    public static let magic = Array("VLATMODL".utf8)
    /// The version written uncompressed, and compressed; `parse` reads these and version 1.
    public static let version: UInt32 = 2
    public static let compressedVersion: UInt32 = 4
    /// The first compressed version, still read; its float16 values are not in byte planes.
    public static let firstCompressedVersion: UInt32 = 3
    /// A compressed body may decode to at most this many times the frame's size (float weights
    /// compress far less), and never past `maxBodyBytes`: a small file cannot ask for a large
    /// allocation.
    public static let maxExpansion = 64
    public static let maxBodyBytes = 1 << 30

    public var json: String
    public var tensors: [Entry]

    public init(json: String, tensors: [Entry]) {
        self.json = json
        self.tensors = tensors
    }

    public subscript(name: String) -> Entry? { tensors.first { $0.name == name } }

    /// The file's bytes: version 2, or version 4 with the body zstd-compressed at
    /// `compressionLevel` (1...19).
    public func serialized(compressionLevel: Int? = nil) -> [UInt8] {
        var body = ByteWriter()
        let jsonBytes = Array(json.utf8)
        // Once, for the whole body: reserving per tensor grows the buffer to exactly each new
        // size, copying everything written so far every time (a checkpoint has hundreds).
        body.bytes.reserveCapacity(jsonBytes.count + 8 + tensors.reduce(0) { $0 + $1.name.utf8.count + 8 + 4 * $1.shape.count + $1.storage.byteCount * $1.values.count })
        body.u32(UInt32(jsonBytes.count))
        body.append(jsonBytes)
        body.u32(UInt32(tensors.count))
        for t in tensors {
            let name = Array(t.name.utf8)
            body.u16(UInt16(name.count))
            body.append(name)
            body.u8(UInt8(t.shape.count))
            for d in t.shape { body.u32(UInt32(d)) }
            body.u8(t.storage.rawValue)
            switch t.storage {
            case .float32: for v in t.values { body.u32(v.bitPattern) }
            case .float16 where compressionLevel != nil:
                let bits = t.values.map { Float16($0).bitPattern }
                body.append(bits.map { UInt8(truncatingIfNeeded: $0) })
                body.append(bits.map { UInt8(truncatingIfNeeded: $0 >> 8) })
            case .float16: for v in t.values { body.u16(Float16(v).bitPattern) }
            }
        }
        var w = ByteWriter()
        w.append(Self.magic)
        if let level = compressionLevel {
            w.u32(Self.compressedVersion)
            w.u32(UInt32(truncatingIfNeeded: body.bytes.count))
            w.u32(UInt32(truncatingIfNeeded: UInt64(body.bytes.count) >> 32))
            w.append(Zstd.compress(body.bytes, level: level))
        } else {
            w.u32(Self.version)
            w.append(body.bytes)
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
            guard (1...Self.compressedVersion).contains(version) else { throw ModelFileError.unsupportedVersion(Int(version)) }
            if version >= Self.firstCompressedVersion {
                let length = UInt64(try r.u32()) | UInt64(try r.u32()) << 32
                let frame = Array(try r.take(r.remaining))
                guard length <= UInt64(min(Self.maxBodyBytes, Self.maxExpansion * frame.count)) else {
                    throw ModelFileError.malformed("a compressed body of \(length) bytes from \(frame.count)")
                }
                let decoded: [UInt8]
                do { decoded = try Zstd.decompress(frame, expectedSize: Int(length)) } catch {
                    throw ModelFileError.malformed("compressed body: \(error)")
                }
                return try parseBody(decoded, version: version)
            }
            return try parseBody(Array(bytes[r.offset..<body]), version: version)
        } catch let error as ContainerError {
            throw ModelFileError.malformed("\(error)")
        }
    }

    /// The JSON and tensors of a version-1 to -4 body (what follows the version field, or the
    /// compressed frame's content).
    static func parseBody(_ bytes: [UInt8], version: UInt32) throws -> ModelFile {
        var r = ByteCursor(bytes, from: 0, to: bytes.count)
        do {
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
                case .float16 where version >= 4:
                    let table = Self.float16Table
                    let planes = try r.take(2 * elements)
                    planes.withUnsafeBufferPointer { p in
                        for i in 0..<elements { values[i] = table[Int(p[i]) | Int(p[elements + i]) << 8] }
                    }
                case .float16:
                    let table = Self.float16Table
                    for i in 0..<elements { values[i] = table[Int(try r.u16())] }
                }
                tensors.append(Entry(name: name, shape: shape, stored: values, storage: storage))
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
