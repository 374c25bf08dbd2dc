/// A dense float32 tensor, row-major (the last dimension is contiguous). Image-like tensors are
/// NCHW: batch, channels, height, width.
///
/// Value semantics (copy on write through `[Float]`); hot loops reach the storage through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose every element the caller writes before any is read: for a layer's output
    /// that its pass fills whole, skipping a zero-fill (and, for a large output, a second sweep
    /// of fresh pages).
    public init(uninitialized shape: [Int]) {
        self.init(shape: shape, data: [Float](uninitializedCount: shape.reduce(1, *)) { _ in })
    }

    public var count: Int { data.count }
    /// For NCHW tensors.
    public var n: Int { shape[0] }
    public var c: Int { shape[1] }
    public var h: Int { shape[2] }
    public var w: Int { shape[3] }

    /// Same data, new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }

    /// Elementwise `self += other`.
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "add: shapes \(shape) and \(other.shape) differ")
        data.withUnsafeMutableBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                for i in 0..<a.count { a[i] += b[i] }
            }
        }
    }

    /// Elementwise `self *= s`.
    public mutating func scale(by s: Float) {
        data.withUnsafeMutableBufferPointer { a in for i in 0..<a.count { a[i] *= s } }
    }

    /// Sum of squares, accumulated in Float64.
    public var squaredNorm: Double {
        data.withUnsafeBufferPointer { a in
            var s = 0.0
            for v in a { s += Double(v) * Double(v) }
            return s
        }
    }
}

extension Array where Element == Float {
    /// `count` floats that `body` writes, every one of them, with no zero-fill first: for the
    /// large scratch buffers (column matrices, products with beta 0) a pass overwrites whole.
    /// Debug builds (the tests) fill the buffer with NaN first, so that an element a pass fails
    /// to write shows up in every result that reads it.
    public init(uninitializedCount count: Int, _ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.init(unsafeUninitializedCapacity: count) { buffer, initialized in
            #if DEBUG
            buffer.initialize(repeating: .nan)
            #endif
            body(buffer)
            initialized = count
        }
    }
}
