/// Adam (Kingma & Ba 2015) with bias correction, optional global-norm gradient clipping and a
/// learning-rate schedule.
///
/// ```swift
/// let adam = Adam(parameters: model.parameters, learningRate: 1e-4)
/// // after backward:
/// adam.step()   // updates values, then zeroes the gradients
/// ```
public final class Adam {
    public let parameters: [Parameter]
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    /// Clip the global gradient norm to this value before the step; nil for no clipping.
    public var clipNorm: Float?
    public var schedule: LearningRateSchedule
    /// Steps taken.
    public private(set) var t: Int = 0
    public private(set) var m: [[Float]]
    public private(set) var v: [[Float]]

    public init(parameters: [Parameter], learningRate: Float = 1e-4, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, clipNorm: Float? = nil, schedule: LearningRateSchedule = .constant) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.clipNorm = clipNorm
        self.schedule = schedule
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
    }

    /// Restores optimizer state saved from `t`, `m`, `v` (for resuming a run bit for bit).
    public func restore(t: Int, m: [[Float]], v: [[Float]]) {
        precondition(m.count == parameters.count && v.count == parameters.count)
        self.t = t
        self.m = m
        self.v = v
    }

    /// The global L2 norm of all gradients.
    /// Each parameter's sum of squares computed whole (the threads share the parameters), then
    /// added in order: the same sum on any thread count.
    public var gradientNorm: Double {
        let grads = parameters.map(\.grad)
        var squares = [Double](repeating: 0, count: grads.count)
        squares.withUnsafeMutableBufferPointer { sq in
            Parallel.forRanges(grads.count) { range in for k in range { sq[k] = grads[k].squaredNorm } }
        }
        return squares.reduce(0, +).squareRoot()
    }

    /// Applies one update and zeroes the gradients. Returns the gradient norm before clipping.
    @discardableResult
    public func step() -> Double {
        let norm = gradientNorm
        var scale: Float = 1
        if let clipNorm, norm > Double(clipNorm) { scale = Float(Double(clipNorm) / norm) }
        t += 1
        let lr = learningRate * schedule.factor(step: t)
        let c1 = 1 - pow(beta1, Float(t)), c2 = 1 - pow(beta2, Float(t))
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (k, p) in parameters.enumerated() {
            let lr = lr * p.learningRateScale
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeMutableBufferPointer { g in
                    m[k].withUnsafeMutableBufferPointer { mk in
                        v[k].withUnsafeMutableBufferPointer { vk in
                            // Element by element: the threads share a large parameter's elements.
                            Parallel.forRanges(w.count, minimumPerThread: 1 << 14) { range in
                                for i in range {
                                    let gi = g[i] * scale
                                    mk[i] = b1 * mk[i] + (1 - b1) * gi
                                    vk[i] = b2 * vk[i] + (1 - b2) * gi * gi
                                    w[i] -= lr * (mk[i] / c1) / ((vk[i] / c2).squareRoot() + eps)
                                    g[i] = 0
                                }
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}

/// How the learning rate changes over training, as a factor of the base rate.
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    case constant
    /// Cosine decay from 1 to `floor` over `totalSteps`.
    case cosine(totalSteps: Int, floor: Float)
    /// Multiply by `factor` at each step in `milestones`.
    case step(milestones: [Int], factor: Float)
    /// Linear warm-up over `steps`, then constant.
    case warmup(steps: Int)

    public func factor(step: Int) -> Float {
        switch self {
        case .constant: return 1
        case .cosine(let total, let floor):
            let progress = min(1, Float(step) / Float(max(total, 1)))
            return floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * progress))
        case .step(let milestones, let factor):
            return pow(factor, Float(milestones.filter { step >= $0 }.count))
        case .warmup(let steps):
            return min(1, Float(step) / Float(max(steps, 1)))
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
