/// Median filter over a `size x size` window (size odd), edges replicated.
public enum MedianFilter {
    public static func apply(_ plane: [Double], width: Int, height: Int, size: Int) -> [Double] {
        precondition(size >= 1 && size % 2 == 1)
        let r = size / 2
        var out = plane
        var window = [Double](repeating: 0, count: size * size)
        for y in 0..<height {
            for x in 0..<width {
                var k = 0
                for dy in -r...r {
                    let yy = min(height - 1, max(0, y + dy))
                    for dx in -r...r { window[k] = plane[yy * width + min(width - 1, max(0, x + dx))]; k += 1 }
                }
                window.sort()
                out[y * width + x] = window[window.count / 2]
            }
        }
        return out
    }

    public static func apply(_ p: Planes, size: Int) -> Planes {
        p.map { apply($0, width: p.width, height: p.height, size: size) }
    }
}
