/// Losses return the value (accumulated in Float64) and the gradient with respect to the
/// prediction.
public enum Loss {
    /// Mean squared error over all elements.
    public static func mse(_ prediction: Tensor, _ target: Tensor) -> (value: Double, grad: Tensor) {
        precondition(prediction.shape == target.shape, "mse: \(prediction.shape) vs \(target.shape)")
        var grad = Tensor(zeros: prediction.shape)
        let scale = 2 / Float(prediction.count)
        var sum = 0.0
        prediction.data.withUnsafeBufferPointer { p in
            target.data.withUnsafeBufferPointer { t in
                grad.data.withUnsafeMutableBufferPointer { g in
                    for i in 0..<p.count {
                        let d = p[i] - t[i]
                        sum += Double(d) * Double(d)
                        g[i] = scale * d
                    }
                }
            }
        }
        return (sum / Double(prediction.count), grad)
    }

    /// KL divergence of N(mu, exp(logvar)) from N(0, 1), summed over elements and divided by
    /// `normalizer` (e.g. the number of pixels): `0.5 * sum(mu^2 + exp(logvar) - 1 - logvar)`.
    public static func gaussianKL(mu: Tensor, logvar: Tensor, normalizer: Double)
        -> (value: Double, dMu: Tensor, dLogvar: Tensor) {
        var dMu = Tensor(zeros: mu.shape), dLogvar = Tensor(zeros: logvar.shape)
        var sum = 0.0
        let s = Float(1 / normalizer)
        for i in 0..<mu.count {
            let m = mu.data[i], lv = logvar.data[i], e = exp(lv)
            sum += 0.5 * (Double(m) * Double(m) + Double(e) - 1 - Double(lv))
            dMu.data[i] = m * s
            dLogvar.data[i] = 0.5 * (e - 1) * s
        }
        return (sum / normalizer, dMu, dLogvar)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
