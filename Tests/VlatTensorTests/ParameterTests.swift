import Testing
import VlatTestSupport
@testable import VlatTensor

@Suite("Parameters")
struct ParameterTests {
    /// The gradient starts as zeros of the value's shape, is allocated on first use, and an
    /// element-wise update writes into its buffer in place instead of copying the array.
    @Test func gradientIsZerosAndUpdatedInPlace() {
        let p = Parameter(name: "p", value: Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]))
        #expect(p.grad == Tensor(zeros: [2, 3]))
        func address() -> UnsafePointer<Float>? { p.grad.data.withUnsafeBufferPointer { $0.baseAddress } }
        let before = address()
        p.grad.data[4] += 2
        #expect(address() == before)
        p.grad.data.withUnsafeMutableBufferPointer { $0[1] = -1 }
        #expect(address() == before)
        #expect(p.grad.data == [0, -1, 0, 0, 2, 0])
        p.zeroGrad()
        #expect(p.grad.data == [0, 0, 0, 0, 0, 0])
        p.grad = Tensor(shape: [2, 3], data: [6, 5, 4, 3, 2, 1])
        #expect(p.grad.data == [6, 5, 4, 3, 2, 1])
    }

    /// A bias gradient's plane sums: exact for integers (every partial sum exact, so any order
    /// gives them), within float32's rounding of a Float64 sum otherwise, for lengths around
    /// the sixteen running sums.
    @Test(arguments: [0, 1, 15, 16, 17, 31, 33, 1000, 36864])
    func planeSumsAreSums(count: Int) {
        var g = SeededGenerator(seed: UInt64(count) + 3)
        let integers = (0..<count).map { _ in Float(Int(g.next() % 201) - 100) }
        #expect(Parameter.planeSum(integers, count: count) == Float(integers.reduce(0, +)))
        let values = (0..<count).map { _ in g.uniform() - 0.5 }
        let exact = values.reduce(0.0) { $0 + Double($1) }, magnitude = values.reduce(0.0) { $0 + Double(abs($1)) }
        // Each running sum adds count / 16 terms, then four pairwise steps and the tail: the
        // classic bound, (additions) * eps * sum |x|.
        let additions = Double(count / 16 + 4 + count % 16)
        #expect(abs(Double(Parameter.planeSum(values, count: count)) - exact) <= additions * Double(Float.ulpOfOne) * magnitude)
    }
}
