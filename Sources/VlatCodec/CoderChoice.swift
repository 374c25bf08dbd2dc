/// Which entropy coder `ImageCodec.encode` uses for an image's latents.
///
/// `.auto` codes the latents with every coder and keeps the smallest payload; the container's
/// header names the coder it used, so a decoder needs nothing new, and the cost is two more
/// entropy-coding passes (tens of milliseconds, against the analysis transform's hundreds).
///
/// ```swift
/// let container = try ImageCodec.encode(image, model: model, coder: .auto)
/// print(container.header.coder)          // rans, ctx or zstd, whichever was smallest
/// ```
public enum CoderChoice: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The smallest of the three for this image (ties go to rANS, then ctx).
    case auto
    /// rANS driven by the model's learned prior (its integer CDF tables).
    case rans
    /// rANS with tables that adapt to the image, sixteen per channel, starting from the model's
    /// fitted context tables when it has them (header coder 4), else from the prior's (coder 3;
    /// `ContextRANSCoder`).
    case ctx
    /// zstd on channel-major zigzag planes of the latents.
    case zstd
    /// A hyperprior model's own coder (header coder 5, 6 or 7, as its contexts are), the
    /// only one such a model uses.
    case hyperprior

    /// The choices a factorized-prior model takes (a hyperprior model takes auto and hyperprior).
    public static let factorized: [CoderChoice] = [.auto, .rans, .ctx, .zstd]

    public var description: String { rawValue }
}
