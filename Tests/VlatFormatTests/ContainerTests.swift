import Testing
import VlatTensor
@testable import VlatFormat


func sampleHeader(width: Int = 100, height: Int = 70) -> ContainerHeader {
    ContainerHeader(width: width, height: height, sourceColorType: 2, sourceBitDepth: 8, quality: 4, coder: .rans,
                    paddingMultiple: 16, latentChannels: 8, latentHeight: (height + 15) / 16,
                    latentWidth: (width + 15) / 16, modelDigest: SHA256.hash(Array("model".utf8)))
}

func sampleContainer(payload: Int = 40, icc: Bool = true, alpha: Bool = true) -> Container {
    Container(header: sampleHeader(),
              iccProfile: icc ? (0..<24).map { UInt8($0 * 3) } : nil,
              alpha: alpha ? .init(data: [1, 2, 3, 4, 5]) : nil,
              payload: (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 7) })
}

/// Builds a file chunk by chunk, for files the writer would never produce.
func handmade(_ chunks: [(String, [UInt8])]) -> [UInt8] {
    var out = ByteWriter()
    out.append(Container.signature)
    for (type, data) in chunks { Container.appendChunk(ChunkType(type), data, to: &out) }
    return out.bytes
}

@Suite("The .vlat container")
struct ContainerTests {
    @Test func roundTrip() throws {
        for c in [sampleContainer(), sampleContainer(payload: 0, icc: false, alpha: false)] {
            #expect(try Container.parse(c.serialized()) == c)
        }
    }

    @Test func largePayloadIsSplitIntoSeveralDataChunks() throws {
        var c = sampleContainer()
        c.payload = [UInt8](repeating: 0xAB, count: Container.dataChunkSize * 2 + 5)
        let bytes = c.serialized()
        #expect(try Container.parse(bytes).payload == c.payload)
    }

    @Test func layoutMatchesTheSpecification() throws {
        let bytes = sampleContainer(icc: false, alpha: false).serialized()
        #expect(Array(bytes[0..<8]) == [0x89, 0x56, 0x4C, 0x41, 0x54, 0x0D, 0x0A, 0x1A])
        #expect(Array(bytes[8..<12]) == Array("HEAD".utf8))
        #expect(Array(bytes[12..<16]) == [56, 0, 0, 0])                 // length, little-endian
        #expect(Array(bytes[16..<18]) == [1, 2])                        // version 1.2
        #expect(Array(bytes[18..<22]) == [100, 0, 0, 0])                // width
        #expect(Array(bytes[bytes.count - 12..<bytes.count - 8]) == Array("TAIL".utf8))
        // 8 signature + (12 + 56) HEAD + (12 + 40) DATA + 12 TAIL
        #expect(bytes.count == 8 + 68 + 52 + 12)
    }

    @Test func everySingleByteCorruptionIsDetected() throws {
        let bytes = sampleContainer().serialized()
        var generator = SeededGenerator(seed: 1)
        for i in bytes.indices {
            for _ in 0..<4 {
                var copy = bytes
                copy[i] ^= UInt8.random(in: 1...255, using: &generator)
                #expect(throws: ContainerError.self, "byte \(i)") { try Container.parse(copy) }
            }
        }
    }

    @Test func everyTruncationIsDetected() throws {
        let bytes = sampleContainer().serialized()
        for n in 0..<bytes.count {
            #expect(throws: ContainerError.self) { try Container.parse(Array(bytes[0..<n])) }
        }
    }

    @Test func thousandsOfRandomMutationsNeverCrash() throws {
        let bytes = sampleContainer().serialized()
        var generator = SeededGenerator(seed: 2)
        for _ in 0..<5000 {
            var copy = bytes
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: // overwrite a run
                let start = Int.random(in: 0..<copy.count, using: &generator)
                for j in start..<min(copy.count, start + Int.random(in: 1...16, using: &generator)) {
                    copy[j] = UInt8.random(in: 0...255, using: &generator)
                }
            case 1: // insert bytes
                copy.insert(contentsOf: (0..<Int.random(in: 1...32, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) },
                            at: Int.random(in: 0...copy.count, using: &generator))
            case 2: // delete a run
                let start = Int.random(in: 0..<copy.count, using: &generator)
                copy.removeSubrange(start..<min(copy.count, start + Int.random(in: 1...32, using: &generator)))
            default: // set a length field to something huge
                let at = [12, 12 + 68 + 4].randomElement(using: &generator)!
                copy[at + 3] = 0xFF
            }
            // Any outcome but a crash is fine; a mutated file that still parses must be internally consistent.
            if let parsed = try? Container.parse(copy) {
                #expect(parsed.header.latentSymbols <= ContainerLimits.default.maxLatentSymbols)
            }
        }
    }

    @Test func unknownAncillaryChunksAreSkippedAndCriticalOnesRefused() throws {
        let head = sampleHeader().encoded()
        let skipped = try Container.parse(handmade([("HEAD", head), ("zzzz", [9, 9]), ("DATA", [1]), ("TAIL", [])]))
        #expect(skipped.skippedChunks == ["zzzz"] && skipped.payload == [1])
        #expect(throws: ContainerError.unknownCriticalChunk("ZZZZ")) {
            try Container.parse(handmade([("HEAD", head), ("ZZZZ", [9, 9]), ("DATA", [1]), ("TAIL", [])]))
        }
    }

    @Test func versionRules() throws {
        var future = sampleHeader().encoded()
        future[0] = 2
        future[1] = 0
        #expect(throws: ContainerError.unsupportedVersion(major: 2, minor: 0)) {
            try Container.parse(handmade([("HEAD", future), ("DATA", [1]), ("TAIL", [])]))
        }
        // A 1.3 file with an extra HEAD field appended still reads in 1.2.
        var minor = sampleHeader().encoded()
        minor[1] = 3
        minor += [7, 7, 7, 7]
        let parsed = try Container.parse(handmade([("HEAD", minor), ("DATA", [1]), ("TAIL", [])]))
        #expect(parsed.header.versionMinor == 3 && parsed.header.width == 100)
        // But a 1.0, 1.1 or 1.2 HEAD must be exactly 56 bytes.
        for version: UInt8 in [0, 1, 2] {
            var head = sampleHeader().encoded() + [0]
            head[1] = version
            #expect(throws: ContainerError.self) { try Container.parse(handmade([("HEAD", head), ("DATA", [1]), ("TAIL", [])])) }
        }
        // A 1.0 file (what earlier writers made) reads.
        var old = sampleHeader().encoded()
        old[1] = 0
        #expect(try Container.parse(handmade([("HEAD", old), ("DATA", [1]), ("TAIL", [])])).header.versionMinor == 0)
    }

    @Test func compressedMetadataChunksRoundTripAndAreChecked() throws {
        var c = sampleContainer(icc: false)
        c.compressedICC = .init(size: 3144, data: [1, 2, 3])
        c.exif = .init(size: 120, data: [4, 5])
        c.xmp = .init(size: 3711, data: [6])
        let bytes = c.serialized()
        #expect(try Container.parse(bytes) == c)
        // Layout: method, size (u32 LE), data.
        let exif = try #require(bytes.indices.first { Array(bytes[$0..<$0 + 4]) == Array("exif".utf8) })
        #expect(Array(bytes[exif + 8..<exif + 15]) == [0, 120, 0, 0, 0, 4, 5])

        let head = sampleHeader().encoded()
        func chunk(_ method: UInt8, _ size: UInt32, _ data: [UInt8]) -> [UInt8] {
            [method, UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24)] + data
        }
        func parse(_ chunks: [(String, [UInt8])]) throws -> Container {
            try Container.parse(handmade([("HEAD", head)] + chunks + [("DATA", [1]), ("TAIL", [])]))
        }
        #expect(throws: ContainerError.invalidChunk(chunk: "exif", reason: "unknown coding method")) { try parse([("exif", chunk(1, 4, [0]))]) }
        #expect(throws: ContainerError.invalidChunk(chunk: "xmpp", reason: "empty")) { try parse([("xmpp", chunk(0, 0, [0]))]) }
        #expect(throws: ContainerError.invalidChunk(chunk: "iccz", reason: "shorter than its method and size")) { try parse([("iccz", [0, 1])]) }
        // A declared size over the limit is refused before anything is decompressed.
        #expect(throws: ContainerError.chunkTooLarge(chunk: "exif", length: 1 << 24 + 1, limit: 1 << 24)) {
            try parse([("exif", chunk(0, 1 << 24 + 1, [0]))])
        }
        #expect(throws: ContainerError.duplicateChunk("iccz")) { try parse([("iccp", [1]), ("iccz", chunk(0, 4, [0]))]) }
        #expect(throws: ContainerError.duplicateChunk("iccp")) { try parse([("iccz", chunk(0, 4, [0])), ("iccp", [1])]) }
        #expect(throws: ContainerError.duplicateChunk("xmpp")) { try parse([("xmpp", chunk(0, 4, [0])), ("xmpp", chunk(0, 4, [0]))]) }
        #expect(throws: ContainerError.misplacedChunk("exif")) {
            try Container.parse(handmade([("HEAD", head), ("DATA", [1]), ("exif", chunk(0, 4, [0])), ("TAIL", [])]))
        }
    }

    @Test func chunkOrderIsEnforced() throws {
        let head = sampleHeader().encoded()
        let cases: [[(String, [UInt8])]] = [
            [("DATA", [1]), ("HEAD", head), ("TAIL", [])],                 // HEAD not first
            [("HEAD", head), ("HEAD", head), ("DATA", [1]), ("TAIL", [])], // duplicate HEAD
            [("HEAD", head), ("TAIL", [])],                                // no DATA
            [("HEAD", head), ("DATA", [1])],                               // no TAIL
            [("HEAD", head), ("DATA", [1]), ("iccp", [1]), ("TAIL", [])],  // iccp after DATA
            [("HEAD", head), ("alph", [0, 1]), ("alph", [0, 1]), ("DATA", [1]), ("TAIL", [])],
            [("HEAD", head), ("alph", [3, 1]), ("DATA", [1]), ("TAIL", [])], // unknown alpha method
            [("HEAD", head), ("DATA", [1]), ("TAIL", [0])],                // non-empty TAIL
            [("HEAD", head), ("DETL", [1]), ("DATA", [1]), ("TAIL", [])],  // DETL before DATA
            [("HEAD", head), ("DATA", [1]), ("DETL", [1]), ("DATA", [1]), ("TAIL", [])], // DATA after DETL
        ]
        for chunks in cases {
            #expect(throws: ContainerError.self) { try Container.parse(handmade(chunks)) }
        }
        #expect(throws: ContainerError.trailingData(bytes: 3)) {
            try Container.parse(handmade([("HEAD", head), ("DATA", [1]), ("TAIL", [])]) + [1, 2, 3])
        }
    }

    /// The detail layer's chunks follow the last DATA and concatenate; the writer splits a
    /// large layer as it splits the payload.
    @Test func detailChunksConcatenateAfterTheData() throws {
        let head = sampleHeader().encoded()
        let parsed = try Container.parse(handmade([("HEAD", head), ("DATA", [1]), ("DATA", [2]), ("DETL", [3, 4]), ("DETL", [5]), ("TAIL", [])]))
        #expect(parsed.payload == [1, 2] && parsed.detail == [3, 4, 5])
        #expect(try Container.parse(handmade([("HEAD", head), ("DATA", [1]), ("TAIL", [])])).detail == nil)
        let big = Container(header: sampleHeader(), payload: [9], detail: (0..<(Container.dataChunkSize + 5)).map { UInt8(truncatingIfNeeded: $0) })
        let bytes = big.serialized()
        #expect(try Container.parse(bytes) == big)
        #expect(bytes.count == 8 + (12 + 56) + (12 + 1) + (12 + Container.dataChunkSize) + (12 + 5) + 12)
    }

    @Test func lyingHeadersAreRefused() throws {
        func refuses(_ edit: (inout ContainerHeader) -> Void) -> Bool {
            var h = sampleHeader()
            edit(&h)
            do {
                _ = try Container.parse(handmade([("HEAD", h.encoded()), ("DATA", [1]), ("TAIL", [])]))
                return false
            } catch { return error is ContainerError }
        }
        #expect(refuses { $0.width = 0 })
        #expect(refuses { $0.latentWidth = 3 })              // does not divide the padded width
        #expect(refuses { $0.latentWidth = 0 })
        #expect(refuses { $0.quality = 9 })
        #expect(refuses { $0.sourceColorType = 6 })
        #expect(refuses { $0.sourceBitDepth = 3 })
        #expect(refuses { $0.paddingMultiple = 0 })
        #expect(refuses { $0.width = 60000; $0.height = 60000; $0.latentWidth = 3750; $0.latentHeight = 3750 })
        var bad = sampleHeader().encoded()
        bad[15] = 1 // reserved byte
        #expect(throws: ContainerError.self) { try Container.parse(handmade([("HEAD", bad), ("DATA", [1]), ("TAIL", [])])) }
        bad = sampleHeader().encoded()
        bad[13] = 9 // coder id
        #expect(throws: ContainerError.self) { try Container.parse(handmade([("HEAD", bad), ("DATA", [1]), ("TAIL", [])])) }
    }

    @Test func oversizedLengthIsRefusedBeforeAllocation() throws {
        var bytes = sampleContainer().serialized()
        // Claim a 4 GiB HEAD chunk.
        bytes[12] = 0xFF; bytes[13] = 0xFF; bytes[14] = 0xFF; bytes[15] = 0xFF
        #expect(throws: ContainerError.self) { try Container.parse(bytes) }
        var limits = ContainerLimits()
        limits.maxChunkBytes = 10
        #expect(throws: ContainerError.chunkTooLarge(chunk: "HEAD", length: 56, limit: 10)) {
            try Container.parse(sampleContainer().serialized(), limits: limits)
        }
    }

    @Test func everyErrorIsOneLine() throws {
        let errors: [ContainerError] = [.notVlat, .truncated(at: 5), .badChecksum(chunk: "DATA", offset: 9),
                                        .unsupportedVersion(major: 3, minor: 0), .unknownCriticalChunk("ABCD"),
                                        .invalidHeader("x"), .trailingData(bytes: 2), .overLimit("x")]
        for e in errors { #expect(!e.description.contains("\n") && !e.description.isEmpty) }
    }
}
