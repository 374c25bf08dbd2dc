/// The one conversion between 8-bit samples and the networks' values, used wherever images
/// meet tensors (codec, denoiser, training crops, latent tools): sample `v` is the value
/// `v / 255`, and a value `x` is written back as `round(clamp(x, 0, 1) * 255)`, in float32.
public enum PixelScale {
    @inline(__always) public static func value(_ sample: UInt8) -> Float { Float(sample) / 255 }
    @inline(__always) public static func sample(_ value: Float) -> UInt8 { UInt8((min(1, max(0, value)) * 255).rounded()) }
}
