import VlatFormat

/// Which entropy coder `ImageCodec.encode` uses for an image's latents.
///
/// `.auto` codes the latents with both coders and keeps the smaller payload; the container's
/// header names the coder it used, so a decoder needs nothing new, and the cost is one more
/// entropy-coding pass (milliseconds, against the analysis transform's hundreds).
///
/// ```swift
/// let container = try ImageCodec.encode(image, model: model, coder: .auto)
/// print(container.header.coder)          // rans or zstd, whichever was smaller
/// ```
public enum CoderChoice: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The smaller of the two for this image (ties go to rANS).
    case auto
    /// rANS driven by the model's learned prior (its integer CDF tables).
    case rans
    /// zstd on channel-major zigzag planes of the latents.
    case zstd

    public init(_ coder: ContainerHeader.Coder) {
        switch coder {
        case .rans: self = .rans
        case .zstd: self = .zstd
        }
    }

    public var description: String { rawValue }
}
