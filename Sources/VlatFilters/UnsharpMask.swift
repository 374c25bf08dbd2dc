/// Unsharp masking: `x + amount * (x - gaussian(x, sigma))`.
public enum UnsharpMask {
    public static func apply(_ p: Planes, sigma: Double, amount: Double) -> Planes {
        p.map { plane in
            let blurred = GaussianBlur.apply(plane, width: p.width, height: p.height, sigma: sigma)
            return zip(plane, blurred).map { $0 + amount * ($0 - $1) }
        }
    }
}
