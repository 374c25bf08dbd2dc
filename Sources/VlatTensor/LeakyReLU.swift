/// `max(x, 0) + slope * min(x, 0)`; slope 0 is ReLU.
public final class LeakyReLU: Layer {
    public let slope: Float
    private var input: Tensor?

    public init(slope: Float = 0.01) { self.slope = slope }

    public var parameters: [Parameter] { [] }
    public var spec: LayerSpec { LayerSpec(kind: slope == 0 ? .relu : .leakyRelu, slope: slope) }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var y = x
        let slope = self.slope
        y.data.withUnsafeMutableBufferPointer { p in
            Parallel.forRanges(p.count, minimumPerThread: 1 << 16) { r in for i in r where p[i] < 0 { p[i] *= slope } }
        }
        input = training ? x : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("LeakyReLU.backward without a training forward") }
        input = nil
        var dx = dy
        let slope = self.slope
        x.data.withUnsafeBufferPointer { xp in
            dx.data.withUnsafeMutableBufferPointer { p in
                Parallel.forRanges(p.count, minimumPerThread: 1 << 16) { r in for i in r where xp[i] < 0 { p[i] *= slope } }
            }
        }
        return dx
    }
}
