import Foundation
import Testing
import VlatTestSupport
import VlatFormat
import VlatImageIO
import VlatModels
import VlatTensor
import VlatTraining
@testable import VlatCodec

enum HyperpriorFixtures {
    /// A small, untrained hyperprior exported with its integer tables. Its gains are raised so
    /// that the latents give a spread of symbols, scales and escapes. With `context`, it has a
    /// checkerboard context whose output layer is moved off its zero start, so that it corrects.
    /// With `channel` (and the context), it also has a channel context of three groups, its
    /// output layers moved off zero likewise.
    static func network(context: Bool = false, channel: Bool = false) -> MeanScaleHyperprior {
        let net = MeanScaleHyperprior(config: HyperpriorConfig(channels: 8, latentChannels: 6, hyperChannels: 4, lambdas: [0.003, 0.03, 0.3],
                                                              levelModulation: true, contextChannels: context || channel ? 5 : nil,
                                                              channelGroups: channel ? 3 : nil, channelContextChannels: 7), seed: 21)
        for l in 0..<3 { for c in 0..<6 { net.gains.value.data[l * 6 + c] = Float(2 + 2 * l + c % 2) / MeanScaleHyperprior.gainScale } }
        var g = SeededGenerator(seed: 8)
        for p in net.modulations.flatMap(\.parameters) { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.1 } }
        for p in net.context?.head.layers[3].parameters ?? [] { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.5 } }
        for net in (net.channelContext?.anchorNetworks ?? []) + (net.channelContext?.otherNetworks ?? []) {
            for p in net.layers[4].parameters { for i in 0..<p.value.count { p.value.data[i] = (g.uniform() - 0.5) * 0.5 } }
        }
        return net
    }

    static let calibration = ["Corpus/photos/chelsea.png", "Corpus/photos/coffee.png"].map(CodecFixtures.image)
    static let modelBytes: [UInt8] = try! HyperpriorCodecModel.export(network(), calibration: calibration).serialized()
    static let contextModelBytes: [UInt8] = try! HyperpriorCodecModel.export(network(context: true), calibration: calibration).serialized()

    static let channelModelBytes: [UInt8] = try! HyperpriorCodecModel.export(network(channel: true), calibration: calibration).serialized()

    static func model(context: Bool = false, channel: Bool = false) -> CodecModel {
        try! CodecModel(bytes: channel ? channelModelBytes : context ? contextModelBytes : modelBytes)
    }
}

@Suite("Hyperprior coding")
struct HyperpriorCodingTests {
    @Test(arguments: ["Corpus/photos/chelsea.png", "Corpus/generated/size_17x9.png", "Corpus/generated/size_1x1.png",
                      "Corpus/generated/size_4097x3.png"])
    func roundTripsToTheEncodersLatentAtEveryQuality(path: String) throws {
      for (context, channel) in [(false, false), (true, false), (true, true)] {
        let base = HyperpriorFixtures.model(context: context, channel: channel)
        let image = CodecFixtures.image(path)
        var sizes: [Int] = []
        for q in [1.0, 1.5, 2.0, 2.75, 3.0] {
            let model = try base.atQuality(q)
            let (container, latent) = try ImageCodec.encodeKeepingLatent(image, model: model)
            #expect(container.header.coder == (channel ? .hyperpriorChannelContext : context ? .hyperpriorContext : .hyperprior))
            #expect(container.header.quality == (q == q.rounded() ? UInt8(q) : 0))
            let parsed = try Container.parse(container.serialized())
            let decodedLatent = try HyperpriorCoding.decode(parsed.payload, model: base.hyperprior!, height: latent.h, width: latent.w)
            #expect(decodedLatent == latent, "q\(q)")
            // Decoding needs no quality: the payload carries it.
            let back = try ImageCodec.decode(parsed, model: base)
            // The synthesis at this quality (its level modulations).
            let net = base.hyperprior!.network
            net.setLevels([q - 1])
            let y = TensorOps.crop(net.synthesis.forward(latent, training: false), height: image.height, width: image.width)
            let n = image.pixelCount
            let expected = (0..<n).flatMap { i in (0..<3).map { c in UInt8((min(1, max(0, y.data[c * n + i])) * 255).rounded()) } }
            #expect(back.pixels == expected && back.width == image.width && back.height == image.height)
            sizes.append(container.payload.count)
        }
        if path.contains("chelsea") { #expect(sizes == sizes.sorted() && sizes.first! < sizes.last!, "\(sizes)") }
      }
    }

    /// `StageTimes` names the hyperprior's stages of an encode and a decode when enabled, and
    /// only those of its own thread.
    @Test func stageTimesNameTheHyperpriorsStages() throws {
        let model = HyperpriorFixtures.model(channel: true)
        let image = CodecFixtures.image("Corpus/photos/chelsea.png")
        StageTimes.isEnabled = true
        defer { StageTimes.isEnabled = false }
        _ = StageTimes.take()
        let container = try ImageCodec.encode(image, model: model)
        let encode = StageTimes.take()
        _ = try ImageCodec.decode(Container.parse(container.serialized()), model: model)
        let decode = StageTimes.take()
        for stage in ["analysis", "hyper-analysis", "rANS z", "hyper-synthesis", "quantize", "channel context", "rANS anchors", "context",
                      "rANS others"] {
            #expect(encode.contains { $0.stage == stage && $0.seconds >= 0 }, "encode: \(stage)")
        }
        for stage in ["rANS z", "hyper-synthesis", "rANS anchors", "channel context", "context", "rANS others", "dequantize", "synthesis"] {
            #expect(decode.contains { $0.stage == stage && $0.seconds >= 0 }, "decode: \(stage)")
        }
        // A decode on another thread adds nothing to this thread's totals.
        let bytes = container.serialized()
        let done = DispatchSemaphore(value: 0)
        let other = Thread { _ = try? ImageCodec.decode(Container.parse(bytes), model: HyperpriorFixtures.model(context: true)); done.signal() }
        other.start()
        done.wait()
        #expect(StageTimes.take().isEmpty)
    }

    /// A stage measured inside another counts for itself only: the two never add up to more
    /// than the wall time they share (the encoder's synthesis hands its rows to the detail layer).
    @Test func nestedStagesDoNotOverlap() {
        StageTimes.isEnabled = true
        defer { StageTimes.isEnabled = false }
        _ = StageTimes.take()
        let start = ContinuousClock.now
        StageTimes.measure("outer") {
            Thread.sleep(forTimeInterval: 0.01)
            StageTimes.measure("inner") { Thread.sleep(forTimeInterval: 0.05) }
        }
        let d = (ContinuousClock.now - start).components
        let whole = Double(d.seconds) + Double(d.attoseconds) * 1e-18
        let stages = Dictionary(uniqueKeysWithValues: StageTimes.take().map { ($0.stage, $0.seconds) })
        let inner = stages["inner"] ?? 0, outer = stages["outer"] ?? 0
        #expect(inner >= 0.05 && outer >= 0.01, "\(stages)")
        #expect(outer + inner <= whole + 1e-6, "\(stages), whole \(whole)")
    }

    /// The context changes what is coded: the second half's means and scales differ from the
    /// hyper-synthesis' alone, the anchors' do not.
    @Test func theContextCorrectsOnlyTheSecondHalf() throws {
        let hyper = try #require(HyperpriorFixtures.model(context: true).hyperprior)
        let image = CodecFixtures.image("Corpus/photos/chelsea.png")
        let y = hyper.analysis(ImageCodec.paddedTensor(image), levelCode: 256)
        let (payload, _) = try HyperpriorCoding.encode(y, model: hyper, levelCode: 256)
        let d = try HyperpriorCoding.decodeLean(payload, model: hyper, height: y.h, width: y.w)
        let raw = HyperpriorCoding.hyperOutput(zHat: d.zHat, zHeight: HyperpriorCoding.zSize(y.h), zWidth: HyperpriorCoding.zSize(y.w),
                                               height: y.h, width: y.w, hyperSynthesis: hyper.hyperSynthesis)
        let plane = y.h * y.w
        var changed = 0
        for i in 0..<(y.c * plane) {
            let p = i % plane
            if CheckerboardContext.isAnchor(p / y.w, p % y.w) { #expect(d.conditions.raw[i] == raw[i]) } else if d.conditions.raw[i] != raw[i] { changed += 1 }
        }
        #expect(changed * 4 > y.c * plane / 2, "\(changed) of \(y.c * plane / 2) means corrected")
    }

    /// The integer context against its definition: direct Int64 sums over the 12 anchor taps of
    /// each non-anchor position and the three layers, no gathering, no BLAS; passes of one
    /// position give the same integers.
    @Test func theIntegerContextEqualsADirectReference() throws {
        let context = try #require(HyperpriorFixtures.model(context: true).hyperprior?.context)
        let m = context.latentChannels, limit = IntegerHyperSynthesis.limit
        var g = SeededGenerator(seed: 6)
        for (h, w) in [(1, 1), (1, 2), (3, 5), (6, 4)] {
            let plane = h * w
            let symbols = (0..<(m * plane)).map { i -> Int32 in i % 11 == 4 ? (i % 2 == 0 ? Int32.max : Int32.min) : Int32(Int(g.next() % 31) - 15) }
            let conditions = (0..<(2 * m * plane)).map { _ in Int32(Int(g.next() % 60001) - 30000) }
            var fast = conditions
            context.correct(&fast, symbols: symbols, height: h, width: w)
            var oneByOne = conditions
            context.correct(&oneByOne, symbols: symbols, height: h, width: w, positionsPerPass: 1)
            #expect(oneByOne == fast)
            var expected = conditions
            let layers = context.network.layers
            for r in 0..<h {
                for x in 0..<w where !CheckerboardContext.isAnchor(r, x) {
                    var a: [Int64] = []
                    for c in 0..<m {
                        for (dy, dx) in (-2...2).flatMap({ dy in (-2...2).map { (dy, $0) } }) where (dy + dx) & 1 != 0 {
                            let (rr, xx) = (r + dy, x + dx)
                            a.append(rr >= 0 && rr < h && xx >= 0 && xx < w ? min(max(Int64(symbols[c * plane + rr * w + xx]), -limit), limit) : 0)
                        }
                    }
                    let s = Int64(context.conditionShift)
                    for j in 0..<(2 * m) { a.append((Int64(conditions[j * plane + r * w + x]) + (s > 0 ? 1 << (s - 1) : 0)) >> s) }
                    for layer in layers {
                        let n = layer.spec.inChannels
                        a = (0..<layer.spec.outChannels).map { o in
                            var acc = layer.bias[o]
                            for i in 0..<n { acc += Int64(layer.weights[o * n + i]) * a[i] }
                            let v = (acc + (layer.shift > 0 ? 1 << (layer.shift - 1) : 0)) >> Int64(layer.shift)
                            return min(max(v, layer.relu ? 0 : -limit), limit)
                        }
                    }
                    for j in 0..<(2 * m) {
                        let i = j * plane + r * w + x
                        expected[i] = Int32(min(max(Int64(conditions[i]) + a[j] << Int64(context.outputShift), -limit), limit))
                    }
                }
            }
            #expect(fast == expected, "\(h)x\(w)")
        }
    }

    /// The channel context changes what is coded: the first group's conditions are those of the
    /// hyper-synthesis (anchors) and of the checkerboard context (the others), every later
    /// group's differ from them in both halves.
    @Test func theChannelContextCorrectsTheGroupsAfterTheFirst() throws {
        let hyper = try #require(HyperpriorFixtures.model(channel: true).hyperprior)
        let context = try #require(hyper.context), channel = try #require(hyper.channelContext)
        let image = CodecFixtures.image("Corpus/photos/chelsea.png")
        let y = hyper.analysis(ImageCodec.paddedTensor(image), levelCode: 256)
        let (payload, _) = try HyperpriorCoding.encode(y, model: hyper, levelCode: 256)
        let d = try HyperpriorCoding.decodeLean(payload, model: hyper, height: y.h, width: y.w)
        var expected = HyperpriorCoding.hyperOutput(zHat: d.zHat, zHeight: HyperpriorCoding.zSize(y.h), zWidth: HyperpriorCoding.zSize(y.w),
                                                    height: y.h, width: y.w, hyperSynthesis: hyper.hyperSynthesis)
        let plane = y.h * y.w, span = channel.groupSize * plane, m = y.c
        // The checkerboard context reads the anchors' symbols, whatever corrected their means.
        context.correct(&expected, symbols: d.symbols, height: y.h, width: y.w)
        var changed = [Int](repeating: 0, count: channel.groups)
        for j in 0..<(2 * m) {
            for p in 0..<plane {
                let i = j * plane + p, group = (j % m) * plane / span
                if group == 0 { #expect(d.conditions.raw[i] == expected[i]) } else if d.conditions.raw[i] != expected[i] { changed[group] += 1 }
            }
        }
        #expect(changed.dropFirst().allSatisfy { $0 * 2 > 2 * span }, "\(changed) of \(2 * span) conditions a group corrected")
    }

    /// The integer channel context against its definition: for each position of the half, its
    /// column built value by value and run through the reference convolutions
    /// (`ReferenceIntegerNetwork`), no gathering buffer, no BLAS; passes of one position give
    /// the same integers.
    @Test(arguments: [true, false]) func theIntegerChannelContextEqualsADirectReference(anchors: Bool) throws {
        let hyper = try #require(HyperpriorFixtures.model(channel: true).hyperprior)
        let channel = try #require(hyper.channelContext)
        let m = channel.latentChannels, s = channel.groupSize, limit = IntegerHyperSynthesis.limit
        let f = hyper.hyperSynthesis.outputFraction
        var g = SeededGenerator(seed: 7)
        for (h, w) in [(1, 1), (1, 2), (3, 5), (6, 4)] {
            let plane = h * w
            let symbols = (0..<(m * plane)).map { i -> Int32 in i % 11 == 4 ? (i % 2 == 0 ? Int32.max : Int32.min) : Int32(Int(g.next() % 31) - 15) }
            let conditions = (0..<(2 * m * plane)).map { _ in Int32(Int(g.next() % 60001) - 30000) }
            for group in 1..<channel.groups {
                var fast = conditions, oneByOne = conditions
                channel.correct(group: group, anchors: anchors, conditions: &fast, symbols: symbols, height: h, width: w, fraction: f)
                channel.correct(group: group, anchors: anchors, conditions: &oneByOne, symbols: symbols, height: h, width: w, fraction: f,
                                positionsPerPass: 1)
                #expect(oneByOne == fast)
                var expected = conditions
                let net = (anchors ? channel.anchorNetworks : channel.otherNetworks)[group - 1]
                let shift = Int64(channel.inputShift), half: Int64 = shift > 0 ? 1 << (shift - 1) : 0
                for r in 0..<h {
                    for x in 0..<w where CheckerboardContext.isAnchor(r, x) == anchors {
                        let p = r * w + x
                        var a: [Int64] = (0..<(s * group)).map { c in
                            min(max((Int64(symbols[c * plane + p]) * (1 << Int64(f)) + Int64(conditions[c * plane + p]) + half) >> shift, -limit), limit)
                        }
                        a += (0..<(2 * m)).map { j in min(max((Int64(conditions[j * plane + p]) + half) >> shift, -limit), limit) }
                        // The column as a 1x1 image through the reference convolutions.
                        a = ReferenceIntegerNetwork.run(net, a.map { Int32($0) }, height: 1, width: 1).values
                        for o in 0..<(2 * s) {
                            let i = (o < s ? group * s + o : m + group * s + o - s) * plane + p
                            expected[i] = Int32(min(max(Int64(conditions[i]) + a[o] << Int64(f - net.outputFraction), -limit), limit))
                        }
                    }
                }
                #expect(fast == expected, "\(h)x\(w), group \(group)")
            }
        }
    }

    /// The float channel context a stored model trains from is what its integers stand for,
    /// close to the trained one.
    @Test func theChannelContextsStoredFloatsAreTheTrainedOnes() throws {
        let hyper = try #require(HyperpriorFixtures.model(channel: true).hyperprior)
        let trained = try #require(HyperpriorFixtures.network(channel: true).channelContext)
        let stored = try #require(hyper.network.channelContext)
        for (a, b) in zip(trained.parameters, stored.parameters) {
            #expect(a.name == b.name)
            let scale = max(1e-6, a.value.data.map { abs($0) }.max()!)
            // The first layer reads values with few fraction bits, so its weights keep fewer.
            let tolerance = a.name.hasSuffix(".0.weight") ? scale / 20 : scale / 500
            #expect(zip(a.value.data, b.value.data).allSatisfy { abs($0 - $1) <= tolerance }, "\(a.name)")
        }
    }

    /// The float context a stored model trains from is what its integers stand for, close to
    /// the trained one, and a codec file made with the context has its own coder: a model
    /// without the context refuses it, and the reverse.
    @Test func theContextsFloatsAndCoderBelongToItsModel() throws {
        let hyper = try #require(HyperpriorFixtures.model(context: true).hyperprior)
        let trained = try #require(HyperpriorFixtures.network(context: true).context)
        let stored = try #require(hyper.network.context)
        // The first layer's two biases are stored as their sum.
        let trainedBias = zip(trained.symbols.bias.value.data, trained.conditions.bias.value.data).map { $0 + $1 }
        for (a, b) in zip(trained.parameters, stored.parameters) {
            let values = a === trained.symbols.bias ? trainedBias : a === trained.conditions.bias ? b.value.data.map { _ in 0 } : a.value.data
            let scale = max(1e-6, values.map { abs($0) }.max()!)
            // The conditions enter with few fraction bits, so their weights keep fewer.
            let tolerance = a === trained.conditions.weight ? scale / 20 : scale / 500
            #expect(zip(values, b.value.data).allSatisfy { abs($0 - $1) <= tolerance }, "\(a.name)")
        }
        let image = CodecFixtures.image("Corpus/photos/coffee.png")
        let withContext = HyperpriorFixtures.model(context: true), without = HyperpriorFixtures.model()
        var file = try ImageCodec.encode(image, model: withContext)
        #expect(file.header.coder == .hyperpriorContext)
        file.header.modelDigest = without.digest
        #expect(throws: CodecError.self) { try ImageCodec.decode(file, model: without) }
        var plain = try ImageCodec.encode(image, model: without)
        plain.header.modelDigest = withContext.digest
        #expect(throws: CodecError.self) { try ImageCodec.decode(plain, model: withContext) }
        // Likewise a channel context's coder 7 and the checkerboard context's coder 6.
        let withChannel = HyperpriorFixtures.model(channel: true)
        var grouped = try ImageCodec.encode(image, model: withChannel)
        #expect(grouped.header.coder == .hyperpriorChannelContext)
        grouped.header.modelDigest = withContext.digest
        #expect(throws: CodecError.self) { try ImageCodec.decode(grouped, model: withContext) }
        file.header.modelDigest = withChannel.digest
        #expect(throws: CodecError.self) { try ImageCodec.decode(file, model: withChannel) }
    }

    @Test func theFastIntegerPathEqualsADirectReference() throws {
        let net = try #require(HyperpriorFixtures.model().hyperprior).hyperSynthesis
        var g = SeededGenerator(seed: 5)
        for (h, w) in [(1, 1), (2, 3), (5, 4), (7, 2)] {
            // Ordinary values, and the extremes a damaged file could hold.
            let z = (0..<(net.inputChannels * h * w)).map { i -> Int32 in
                i % 7 == 3 ? (i % 2 == 0 ? Int32.max : Int32.min) : Int32(Int(g.next() % 41) - 20)
            }
            let fast = net.run(z, height: h, width: w)
            let slow = ReferenceIntegerNetwork.run(net, z, height: h, width: w)
            // Bands of one row give the same integers.
            #expect(net.run(z, height: h, width: w, bandElements: 1).values == fast.values)
            #expect(fast.values.map { Int64($0) } == slow.values && fast.height == slow.height && fast.width == slow.width)
        }
    }

    @Test func scaleIndicesPickTheNearestTableScale() {
        for fraction in [8, 12, 16] {
            for raw in stride(from: -9000, through: 9000, by: 37) where abs(raw) < 1 << (fraction + 3) {
                let k = HyperpriorCodecModel.scaleIndex(logScale: Int32(raw), fraction: fraction)
                let ln = Double(raw) / exp2(Double(fraction))
                let distances = (0..<64).map { abs(log(HyperpriorCodecModel.scale(index: $0)) - ln) }
                let best = distances.indices.min { distances[$0] < distances[$1] }!
                // The nearest in log-scale, up to ties at a midpoint.
                #expect(abs(distances[k] - distances[best]) < 1e-4, "raw \(raw), fraction \(fraction)")
            }
        }
    }

    @Test func theStoredFloatHyperSynthesisIsWhatTheIntegersStandFor() throws {
        let hyper = try #require(HyperpriorFixtures.model().hyperprior)
        let floats = hyper.hyperSynthesis.floatParameters
        let convs = hyper.network.hyperSynthesis.layers.filter { !$0.parameters.isEmpty }
        for (k, layer) in convs.enumerated() {
            #expect(layer.parameters[0].value.data == floats[k].weight && layer.parameters[1].value.data == floats[k].bias)
        }
        // And they stay close to the trained weights.
        let trained = HyperpriorFixtures.network().hyperSynthesis.parameters
        for (a, b) in zip(trained, convs.flatMap(\.parameters)) {
            let scale = a.value.data.map { abs($0) }.max()!
            #expect(zip(a.value.data, b.value.data).allSatisfy { abs($0 - $1) <= scale / 1000 }, "\(a.name)")
        }
    }

    @Test(arguments: [(false, false), (true, false), (true, true)])
    func damagedPayloadsAndWrongCodersAreErrors(context: Bool, channel: Bool) throws {
        let model = HyperpriorFixtures.model(context: context, channel: channel)
        let image = CodecFixtures.image("Corpus/photos/chelsea.png")
        let container = try ImageCodec.encode(image, model: model)
        var cuts = [0, 3, 6, container.payload.count / 2, container.payload.count - 1]
        if context {
            // Inside the anchor stream's length, and a length that overruns the payload.
            let z = HyperpriorCoding.readU32(container.payload, at: 2)
            cuts += [6 + z + 2, 6 + z + 4]
            var overrun = container
            overrun.payload.replaceSubrange((6 + z)..<(6 + z + 4), with: HyperpriorCoding.littleEndian(container.payload.count))
            #expect(throws: CodecError.self) { try ImageCodec.decode(overrun, model: model) }
        }
        for cut in cuts {
            var damaged = container
            damaged.payload = Array(container.payload.prefix(cut))
            #expect(throws: CodecError.self) { try ImageCodec.decode(damaged, model: model) }
        }
        var badLevel = container
        badLevel.payload[0] = 0xFF; badLevel.payload[1] = 0xFF
        #expect(throws: CodecError.self) { try ImageCodec.decode(badLevel, model: model) }
        // Random flips: an error or an image, never a trap.
        var g = SeededGenerator(seed: 3)
        for _ in 0..<50 {
            var flipped = container
            let i = Int(g.next() % UInt64(flipped.payload.count))
            flipped.payload[i] ^= UInt8(1 << (g.next() % 8))
            _ = try? ImageCodec.decode(flipped, model: model)
        }
        for coder in [CoderChoice.rans, .ctx, .zstd] {
            #expect(throws: CodecError.self) { try ImageCodec.encode(image, model: model, coder: coder) }
        }
        #expect(throws: CodecError.self) { try ImageCodec.encode(image, model: CodecFixtures.model(), coder: .hyperprior) }
        // A factorized file given to a hyperprior model and back is refused by digest first.
        let factorized = try ImageCodec.encode(image, model: CodecFixtures.model())
        #expect(throws: CodecError.self) { try ImageCodec.decode(factorized, model: model) }
    }

    @Test func qualitiesOutsideTheModelAreRefused() throws {
        let model = HyperpriorFixtures.model()
        #expect(throws: CodecError.self) { try model.atQuality(0.5) }
        #expect(throws: CodecError.self) { try model.atQuality(8.5) }
        #expect(try model.atQuality(3.5).detailStep != nil)
        #expect(throws: CodecError.self) { try CodecFixtures.model().atQuality(2) }
    }
}

/// The integer hyper-synthesis computed from its definition alone: direct sums in Int64 over
/// every kernel tap, no im2col, no BLAS.
enum ReferenceIntegerNetwork {
    static func run(_ net: IntegerHyperSynthesis, _ input: [Int32], height: Int, width: Int) -> (values: [Int64], height: Int, width: Int) {
        let limit = IntegerHyperSynthesis.limit
        var a = input.map { min(max(Int64($0), -limit), limit) }, h = height, w = width
        for layer in net.layers {
            let s = layer.spec, k = s.kernel
            let transposed = s.kind == .convTranspose
            let oh = transposed ? (h - 1) * s.stride - 2 * s.padding + k + s.outputPadding : (h + 2 * s.padding - k) / s.stride + 1
            let ow = transposed ? (w - 1) * s.stride - 2 * s.padding + k + s.outputPadding : (w + 2 * s.padding - k) / s.stride + 1
            var out = [Int64](repeating: 0, count: s.outChannels * oh * ow)
            for o in 0..<s.outChannels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc = layer.bias[o]
                        for c in 0..<s.inChannels {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    if transposed {
                                        // Output (oy, ox) gets input (iy, ix) when iy * stride - padding + ky == oy.
                                        let ny = oy + s.padding - ky, nx = ox + s.padding - kx
                                        guard ny >= 0, nx >= 0, ny % s.stride == 0, nx % s.stride == 0 else { continue }
                                        let (iy, ix) = (ny / s.stride, nx / s.stride)
                                        guard iy < h, ix < w else { continue }
                                        acc += Int64(layer.weights[((c * s.outChannels + o) * k + ky) * k + kx]) * a[(c * h + iy) * w + ix]
                                    } else {
                                        let iy = oy * s.stride - s.padding + ky, ix = ox * s.stride - s.padding + kx
                                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                        acc += Int64(layer.weights[((o * s.inChannels + c) * k + ky) * k + kx]) * a[(c * h + iy) * w + ix]
                                    }
                                }
                            }
                        }
                        let half: Int64 = layer.shift > 0 ? 1 << (layer.shift - 1) : 0
                        let v = (acc + half) >> Int64(layer.shift)
                        out[(o * oh + oy) * ow + ox] = min(max(v, layer.relu ? 0 : -limit), limit)
                    }
                }
            }
            a = out; h = oh; w = ow
        }
        return (a, h, w)
    }
}

@Suite("Hyperprior models as a training start")
struct HyperpriorWarmStartTests {
    /// A one-step run of the fixture network (no contexts) on the corpus photos, warm-started from `initial`.
    static func trainer(startingFrom initial: ModelFile) throws -> Trainer {
        var options = TrainingOptions(data: CodecFixtures.root.appendingPathComponent("Corpus/photos").path)
        options.objective = .hyperprior
        options.crop = 64
        options.batch = 2
        options.steps = 1
        options.hyperprior = HyperpriorFixtures.network().config
        return try Trainer(options: options, images: try TrainingImages.load(folder: options.data), initial: initial)
    }

    /// A shipped (exported) hyperprior is what a later training run resumes from: every tensor
    /// comes across, the hyper-synthesis as the floats its integers stand for.
    @Test func anExportedModelStartsTrainingWithEveryTensor() throws {
        let exported = try ModelFile.parse(HyperpriorFixtures.modelBytes)
        let trainer = try Self.trainer(startingFrom: exported)
        let net = try #require(trainer.hyperprior)
        #expect(trainer.initializedTensors.count == net.parameters.count)
        let integer = try #require(try IntegerHyperSynthesis(file: exported, specs: net.config.hyperSynthesisSpecs))
        let convs = net.hyperSynthesis.layers.filter { !$0.parameters.isEmpty }
        for (layer, floats) in zip(convs, integer.floatParameters) { #expect(layer.parameters[0].value.data == floats.weight) }
        #expect(net.gains.value == HyperpriorFixtures.network().gains.value)
        #expect(trainer.droppedTensors.isEmpty)
    }

    /// The stored integer hyper-synthesis must hold integers in range: a fraction, a NaN, an
    /// infinity or a value past 2^62 anywhere is an error, not a network.
    @Test func storedIntegersThatAreNotIntegersAreRefused() throws {
        let file = try ModelFile.parse(HyperpriorFixtures.modelBytes)
        let specs = try MeanScaleHyperprior.config(in: file).hyperSynthesisSpecs
        #expect(try IntegerHyperSynthesis(file: file, specs: specs) != nil)
        let name = "\(IntegerHyperSynthesis.prefix).1.weight"
        let at = try #require(file.tensors.firstIndex { $0.name == name })
        for bad: Float in [0.5, -3.25, .nan, .infinity, 0x1p63] {
            var damaged = file
            var values = damaged.tensors[at].values
            values[values.count / 2] = bad
            damaged.tensors[at] = ModelFile.Entry(name: name, shape: damaged.tensors[at].shape, values: values)
            #expect(throws: IntegerNetworkError.self, "\(bad)") { _ = try IntegerHyperSynthesis(file: damaged, specs: specs) }
        }
    }

    /// A warm start whose options leave out a part of the initial model names what it drops.
    @Test func aWarmStartWithoutTheContextsNamesTheTensorsItDrops() throws {
        let trainer = try Self.trainer(startingFrom: ModelFile.parse(HyperpriorFixtures.channelModelBytes))
        let full = HyperpriorFixtures.network(channel: true)
        let expected = Set(full.parameters.map(\.name)).subtracting(HyperpriorFixtures.network().parameters.map(\.name))
        #expect(!expected.isEmpty && Set(trainer.droppedTensors) == expected, "\(trainer.droppedTensors)")
    }
}
