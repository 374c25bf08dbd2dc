import Testing
import VlatTensor

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
}
