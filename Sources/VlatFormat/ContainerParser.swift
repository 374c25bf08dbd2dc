extension Container {
    /// Parses and verifies a whole `.vlat` file. Every length is checked against the bytes present
    /// and against `limits` before use, every chunk's CRC is verified, and the chunk order is
    /// enforced, so damage of any kind surfaces as a `ContainerError`.
    public static func parse(_ bytes: [UInt8], limits: ContainerLimits = .default) throws -> Container {
        guard bytes.count >= signature.count, Array(bytes[0..<signature.count]) == signature else {
            throw ContainerError.notVlat
        }
        var cursor = ByteCursor(bytes, from: signature.count)
        var header: ContainerHeader?
        var icc: [UInt8]?
        var compressed: [ChunkType: CompressedBlob] = [:]
        var alpha: AlphaPlane?
        var payload: [UInt8] = []
        var sawData = false
        var detail: [UInt8]?
        var skipped: [String] = []

        while true {
            let chunkStart = cursor.offset
            guard cursor.remaining >= 12 else { throw ContainerError.truncated(at: bytes.count) }
            guard let type = ChunkType(raw: try cursor.take(4)) else {
                throw ContainerError.invalidChunkType(offset: chunkStart)
            }
            let length = Int(try cursor.u32())
            guard length <= limits.maxChunkBytes else {
                throw ContainerError.chunkTooLarge(chunk: type.description, length: length, limit: limits.maxChunkBytes)
            }
            guard cursor.remaining >= length + 4 else { throw ContainerError.truncated(at: bytes.count) }
            let data = try cursor.take(length)
            let stored = try cursor.u32()
            guard CRC32.checksum(bytes[chunkStart..<chunkStart + 8 + length]) == stored else {
                throw ContainerError.badChecksum(chunk: type.description, offset: chunkStart)
            }

            if header == nil && type != .head { throw ContainerError.missingChunk("HEAD") }
            switch type {
            case .head:
                guard header == nil else { throw ContainerError.duplicateChunk("HEAD") }
                header = try ContainerHeader.decode(data, limits: limits)
            case .icc:
                guard icc == nil, compressed[.compressedICC] == nil else { throw ContainerError.duplicateChunk("iccp") }
                guard !sawData else { throw ContainerError.misplacedChunk("iccp") }
                guard length <= limits.maxICCBytes else {
                    throw ContainerError.chunkTooLarge(chunk: "iccp", length: length, limit: limits.maxICCBytes)
                }
                guard length > 0 else { throw ContainerError.invalidChunk(chunk: "iccp", reason: "empty profile") }
                icc = Array(data)
            case .compressedICC, .exif, .xmp:
                let name = type.description
                guard compressed[type] == nil, type != .compressedICC || icc == nil else { throw ContainerError.duplicateChunk(name) }
                guard !sawData else { throw ContainerError.misplacedChunk(name) }
                var r = ByteCursor(Array(data))
                guard length >= 6 else { throw ContainerError.invalidChunk(chunk: name, reason: "shorter than its method and size") }
                let method = try r.u8(), size = Int(try r.u32())
                guard method == 0 else { throw ContainerError.invalidChunk(chunk: name, reason: "unknown coding method") }
                let limit = type == .compressedICC ? limits.maxICCBytes : limits.maxMetadataBytes
                guard size >= 1 else { throw ContainerError.invalidChunk(chunk: name, reason: "empty") }
                guard size <= limit else { throw ContainerError.chunkTooLarge(chunk: name, length: size, limit: limit) }
                compressed[type] = CompressedBlob(method: method, size: size, data: Array(data.dropFirst(5)))
            case .alpha:
                guard alpha == nil else { throw ContainerError.duplicateChunk("alph") }
                guard !sawData else { throw ContainerError.misplacedChunk("alph") }
                guard let method = data.first, method == 0 else {
                    throw ContainerError.invalidChunk(chunk: "alph", reason: "unknown coding method")
                }
                alpha = AlphaPlane(method: method, data: Array(data.dropFirst()))
            case .data:
                guard detail == nil else { throw ContainerError.misplacedChunk("DATA") }
                sawData = true
                payload.append(contentsOf: data)
            case .detail:
                guard sawData else { throw ContainerError.misplacedChunk("DETL") }
                detail = (detail ?? []) + data
            case .tail:
                guard sawData else { throw ContainerError.missingChunk("DATA") }
                guard length == 0 else { throw ContainerError.invalidChunk(chunk: "TAIL", reason: "must be empty") }
                guard cursor.remaining == 0 else { throw ContainerError.trailingData(bytes: cursor.remaining) }
                var container = Container(header: header!, iccProfile: icc, compressedICC: compressed[.compressedICC],
                                          exif: compressed[.exif], xmp: compressed[.xmp], alpha: alpha, payload: payload,
                                          detail: detail)
                container.skippedChunks = skipped
                return container
            default:
                if type.isCritical { throw ContainerError.unknownCriticalChunk(type.description) }
                skipped.append(type.description)
            }
        }
    }
}
