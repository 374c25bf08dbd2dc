import CKernels

/// The arithmetic of an inference pass whose result need not be exact: `float32` products
/// (OpenBLAS), or `bfloat16` operands multiplied in pairs and summed in float32 (AVX512_BF16's
/// `vdpbf16ps`, `vlat_bf16_taps_row`), about twice the multiply-adds a second.
///
/// bfloat16 keeps float32's exponent and 8 of its 24 significant bits: each operand is off by at
/// most 2^-8 of itself, each product by at most about 2^-7 (the tests' bound), and the sum is
/// float32. Meant for the encoder's analysis transform, which only chooses the symbols a file
/// records; the decoder's transforms stay float32.
///
/// ```swift
/// conv.inferencePrecision = .fastest   // bfloat16 where the CPU has it
/// ```
public enum InferencePrecision: String, Sendable, CaseIterable {
    case float32
    case bfloat16

    /// Whether this CPU multiplies bfloat16 pairs (AVX512_BF16); without it `bfloat16` runs as `float32`.
    public static let bfloat16Available = vlat_bf16_available() != 0

    /// `bfloat16` where the CPU has it, else `float32`.
    public static var fastest: InferencePrecision { bfloat16Available ? .bfloat16 : .float32 }

    /// What a pass asked for `self` runs: `bfloat16` only where the CPU has it.
    public var effective: InferencePrecision { self == .bfloat16 && !Self.bfloat16Available ? .float32 : self }

    /// `value` rounded to the nearest bfloat16 (ties to even; subnormals to zero, as the
    /// instructions' conversions take them), as a float.
    public static func roundedToBFloat16(_ value: Float) -> Float {
        Float(bitPattern: UInt32(vlat_bf16_round(value)) << 16)
    }
}
