/// Shape operations on NCHW tensors, each with its backward (the adjoint), for skip connections
/// and for padding images to the transform's multiple.
public enum TensorOps {
    /// `a + b`. Backward: the gradient goes unchanged to both inputs.
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        var out = a
        out.add(b)
        return out
    }

    /// Concatenation along channels. Backward: `splitChannels(dy, at: a.c)`.
    public static func concatChannels(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.n == b.n && a.h == b.h && a.w == b.w, "concat: \(a.shape) and \(b.shape)")
        let plane = a.h * a.w, ca = a.c * plane, cb = b.c * plane
        var out = [Float](repeating: 0, count: a.count + b.count)
        for i in 0..<a.n {
            out.replaceSubrange((i * (ca + cb))..<(i * (ca + cb) + ca), with: a.data[(i * ca)..<(i * ca + ca)])
            out.replaceSubrange((i * (ca + cb) + ca)..<((i + 1) * (ca + cb)), with: b.data[(i * cb)..<(i * cb + cb)])
        }
        return Tensor(shape: [a.n, a.c + b.c, a.h, a.w], data: out)
    }

    /// Splits channels `0..<at` and `at...` (the adjoint of `concatChannels`).
    public static func splitChannels(_ x: Tensor, at: Int) -> (Tensor, Tensor) {
        let plane = x.h * x.w, ca = at * plane, cb = (x.c - at) * plane
        var a = [Float](), b = [Float]()
        a.reserveCapacity(x.n * ca); b.reserveCapacity(x.n * cb)
        for i in 0..<x.n {
            let base = i * (ca + cb)
            a.append(contentsOf: x.data[base..<(base + ca)])
            b.append(contentsOf: x.data[(base + ca)..<(base + ca + cb)])
        }
        return (Tensor(shape: [x.n, at, x.h, x.w], data: a), Tensor(shape: [x.n, x.c - at, x.h, x.w], data: b))
    }

    /// Pads right and bottom by replicating the last column and row (how images are padded to
    /// a multiple of the transform's stride).
    public static func padReplicate(_ x: Tensor, toHeight height: Int, width: Int) -> Tensor {
        precondition(height >= x.h && width >= x.w)
        var out = Tensor(zeros: [x.n, x.c, height, width])
        for p in 0..<(x.n * x.c) {
            for y in 0..<height {
                let sy = min(y, x.h - 1)
                for xx in 0..<width {
                    out.data[(p * height + y) * width + xx] = x.data[(p * x.h + sy) * x.w + min(xx, x.w - 1)]
                }
            }
        }
        return out
    }

    /// Adjoint of `padReplicate`: each padded position's gradient is added to the edge pixel it
    /// copied.
    public static func padReplicateBackward(_ dy: Tensor, height: Int, width: Int) -> Tensor {
        var dx = Tensor(zeros: [dy.n, dy.c, height, width])
        for p in 0..<(dy.n * dy.c) {
            for y in 0..<dy.h {
                let sy = min(y, height - 1)
                for xx in 0..<dy.w {
                    dx.data[(p * height + sy) * width + min(xx, width - 1)] += dy.data[(p * dy.h + y) * dy.w + xx]
                }
            }
        }
        return dx
    }

    /// The top-left `height x width` region.
    public static func crop(_ x: Tensor, height: Int, width: Int) -> Tensor {
        precondition(height <= x.h && width <= x.w)
        var out = [Float](repeating: 0, count: x.n * x.c * height * width)
        for p in 0..<(x.n * x.c) {
            for y in 0..<height {
                let src = (p * x.h + y) * x.w, dst = (p * height + y) * width
                out.replaceSubrange(dst..<(dst + width), with: x.data[src..<(src + width)])
            }
        }
        return Tensor(shape: [x.n, x.c, height, width], data: out)
    }

    /// Adjoint of `crop`: the gradient placed top-left in zeros of the original size.
    public static func cropBackward(_ dy: Tensor, height: Int, width: Int) -> Tensor {
        var dx = Tensor(zeros: [dy.n, dy.c, height, width])
        for p in 0..<(dy.n * dy.c) {
            for y in 0..<dy.h {
                let src = (p * dy.h + y) * dy.w, dst = (p * height + y) * width
                dx.data.replaceSubrange(dst..<(dst + dy.w), with: dy.data[src..<(src + dy.w)])
            }
        }
        return dx
    }
}
