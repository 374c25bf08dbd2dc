/// Richardson-Lucy deconvolution with a known Gaussian point-spread function:
/// `u <- u * (K^T * (observed / (K * u)))`, started from the observation. For a symmetric
/// Gaussian, K^T = K, and K * u is a Gaussian blur.
public enum RichardsonLucy {
    public static func apply(_ p: Planes, sigma: Double, iterations: Int) -> Planes {
        p.map { observed in
            // Work on values shifted away from zero: the update divides by the estimate.
            let obs = observed.map { max($0, 0) + 1 }
            var u = obs
            for _ in 0..<iterations {
                let blurred = GaussianBlur.apply(u, width: p.width, height: p.height, sigma: sigma)
                let ratio = zip(obs, blurred).map { $0 / max($1, 1e-6) }
                let correction = GaussianBlur.apply(ratio, width: p.width, height: p.height, sigma: sigma)
                for i in 0..<u.count { u[i] *= correction[i] }
            }
            return u.map { $0 - 1 }
        }
    }
}
