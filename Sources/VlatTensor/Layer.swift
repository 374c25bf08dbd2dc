/// A trainable tensor and its gradient.
public final class Parameter {
    public let name: String
    public var value: Tensor
    /// Allocated on first use, so that a network that only runs forward (a decoder, an
    /// encoder) never holds a second copy of its weights' size. Backward passes and optimisers
    /// reach it from the thread that runs them, never first from inside a parallel loop.
    ///
    /// Written in place (`_modify`): a `lazy var` has only a getter and a setter, so each
    /// `grad.data[i] += g` copied the whole array out and back.
    public var grad: Tensor {
        get {
            if let storedGrad { return storedGrad }
            let zeros = Tensor(zeros: value.shape)
            storedGrad = zeros
            return zeros
        }
        _modify {
            if storedGrad == nil { storedGrad = Tensor(zeros: value.shape) }
            yield &storedGrad!
        }
        set { storedGrad = newValue }
    }
    private var storedGrad: Tensor?
    /// Whether backward passes accumulate into `grad`. A frozen parameter (false) is skipped:
    /// layers still return the gradient with respect to their input, but spend nothing on this
    /// parameter's own gradient (for a convolution, half the backward pass's matrix products).
    /// Encoder-side latent refinement freezes the whole synthesis transform this way.
    /// Optimisers do not look at it: give them only the parameters that should move.
    public var requiresGradient = true
    /// Multiplies the optimiser's learning rate for this parameter (a network's freshly
    /// initialised parts can learn faster than warm-started ones).
    public var learningRateScale: Float = 1

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }

    /// Values drawn from U(-bound, bound): PyTorch's default for convolution weights and biases
    /// with `bound = 1 / sqrt(fan_in)`.
    public static func uniform(name: String, shape: [Int], bound: Float, generator: inout SeededGenerator) -> Parameter {
        let count = shape.reduce(1, *)
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer.initializeElement(at: i, to: (generator.uniform() * 2 - 1) * bound) }
            initialized = count
        }
        return Parameter(name: name, value: Tensor(shape: shape, data: values))
    }

    /// Adds, for each of `channels` planes of `plane` values at `dy`, the plane's sum into
    /// `grad[channel]`: the gradient of a per-channel bias.
    /// Each plane is summed by one thread (the threads share the channels), in a fixed order
    /// that depends only on `plane` (`planeSum`).
    static func accumulateBiasGradient(_ dy: UnsafePointer<Float>, channels: Int, plane: Int, into grad: UnsafeMutableBufferPointer<Float>) {
        Parallel.forRanges(channels, minimumPerThread: max(1, (1 << 15) / max(1, plane))) { range in
            for o in range { grad[o] += planeSum(dy + o * plane, count: plane) }
        }
    }

    /// The sum of `count` floats in a fixed order: sixteen running sums (element i into sum
    /// i mod 16, two 8-lane vectors: a single running sum waits on each addition), added
    /// pairwise at the end, then the last `count mod 16` elements in order.
    static func planeSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var a = SIMD8<Float>(), b = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            a += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            b += UnsafeRawPointer(x + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            i += 16
        }
        let c = a + b, d = c.lowHalf + c.highHalf, e = d.lowHalf + d.highHalf
        var s = e[0] + e[1]
        while i < count { s += x[i]; i += 1 }
        return s
    }

    public func zeroGrad() {
        grad.data.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// A differentiable operation with its own parameters.
///
/// `forward(_:training:)` computes the output; with `training: true` it also keeps what
/// `backward(_:)` needs. `backward` takes dL/d(output) of the most recent training forward,
/// adds dL/d(parameter) into each parameter's `grad`, returns dL/d(input), and drops the cache.
public protocol Layer: AnyObject {
    func forward(_ x: Tensor, training: Bool) -> Tensor
    func backward(_ dy: Tensor) -> Tensor
    var parameters: [Parameter] { get }
    /// The description this layer is rebuilt from (see `LayerSpec`).
    var spec: LayerSpec { get }
}

/// A serialisable description of a layer: what `LayerSpec.build` turns back into a layer.
public struct LayerSpec: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case conv, convTranspose, gdn, igdn, relu, leakyRelu
        /// `LevelModulation`: `inChannels` channels, `outChannels` levels.
        case levelModulation
    }

    public var kind: Kind
    public var inChannels: Int
    public var outChannels: Int
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public var outputPadding: Int
    /// LeakyReLU slope.
    public var slope: Float

    public init(kind: Kind, inChannels: Int = 0, outChannels: Int = 0, kernel: Int = 0, stride: Int = 1,
                padding: Int = 0, outputPadding: Int = 0, slope: Float = 0) {
        self.kind = kind
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.slope = slope
    }

    /// A fresh layer with initial weights drawn from `generator`.
    public func build(name: String, generator: inout SeededGenerator) -> any Layer {
        switch kind {
        case .conv:
            return Conv2d(name: name, inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride,
                          padding: padding, generator: &generator)
        case .convTranspose:
            return ConvTranspose2d(name: name, inChannels: inChannels, outChannels: outChannels, kernel: kernel,
                                   stride: stride, padding: padding, outputPadding: outputPadding, generator: &generator)
        case .gdn: return GDN(name: name, channels: inChannels, inverse: false)
        case .igdn: return GDN(name: name, channels: inChannels, inverse: true)
        case .relu: return LeakyReLU(slope: 0)
        case .leakyRelu: return LeakyReLU(slope: slope)
        case .levelModulation: return LevelModulation(name: name, channels: inChannels, levels: outChannels)
        }
    }
}
