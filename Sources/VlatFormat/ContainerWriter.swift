extension Container {
    /// The file's bytes: signature, HEAD, [iccp | iccz], [exif], [xmpp], [alph], DATA..., [DETL...], TAIL.
    public func serialized() -> [UInt8] {
        var out = ByteWriter()
        out.append(Container.signature)
        Self.appendChunk(.head, header.encoded(), to: &out)
        if let icc = iccProfile { Self.appendChunk(.icc, icc, to: &out) }
        for (type, blob) in [(ChunkType.compressedICC, compressedICC), (.exif, exif), (.xmp, xmp)] {
            guard let blob else { continue }
            var chunk = ByteWriter()
            chunk.u8(blob.method)
            chunk.u32(UInt32(blob.size))
            chunk.append(blob.data)
            Self.appendChunk(type, chunk.bytes, to: &out)
        }
        if let alpha {
            Self.appendChunk(.alpha, [alpha.method] + alpha.data, to: &out)
        }
        var start = 0
        repeat {
            let end = min(payload.count, start + Container.dataChunkSize)
            Self.appendChunk(.data, payload[start..<end], to: &out)
            start = end
        } while start < payload.count
        if let detail {
            start = 0
            repeat {
                let end = min(detail.count, start + Container.dataChunkSize)
                Self.appendChunk(.detail, detail[start..<end], to: &out)
                start = end
            } while start < detail.count
        }
        Self.appendChunk(.tail, [], to: &out)
        return out.bytes
    }

    /// Chunk = type (4) + length (u32 LE) + data + CRC-32 of type, length and data (u32 LE).
    static func appendChunk<C: Collection>(_ type: ChunkType, _ data: C, to out: inout ByteWriter)
    where C.Element == UInt8 {
        let start = out.bytes.count
        out.append(type.bytes)
        out.u32(UInt32(data.count))
        out.append(data)
        out.u32(CRC32.checksum(out.bytes[start...]))
    }
}
