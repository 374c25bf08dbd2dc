/// What an autoencoder is trained for; decides the latent's meaning and the loss.
public enum Objective: String, Codable, Sendable, CaseIterable {
    /// Plain undercomplete autoencoder: MSE only.
    case ae
    /// Gaussian VAE: the analysis transform outputs mean and log-variance; KL to N(0, I).
    case vae
    /// Rate-distortion (the codec): uniform noise stands in for rounding, and the rate is the
    /// latents' bits under a learned factorized prior. A beta-VAE with beta = 1 / lambda.
    case rd
    /// Not an autoencoder objective: trains a `Denoiser` on corrupted -> clean pairs (MSE to the
    /// clean crop). An `Autoencoder` built with it behaves as `ae`.
    case denoise
    /// Not an autoencoder objective: trains a variable-rate `MeanScaleHyperprior`, every crop
    /// at a rate level of its own (`VariableRateStep`).
    case hyperprior
}

/// The shape of a convolutional autoencoder in the style of Balle et al. (2017, 2018):
/// four 5x5 stride-2 convolutions with GDN between them (analysis, 16x downsampling per side)
/// and the mirror with transposed convolutions and inverse GDN (synthesis).
public struct AutoencoderConfig: Codable, Sendable, Equatable {
    public var objective: Objective
    /// Hidden channels N.
    public var channels: Int
    /// Latent channels M.
    public var latentChannels: Int
    /// Hidden channels of the synthesis when it is wider than the analysis (a decoder given the
    /// capacity the top rates need, while the encoder stays as it is); nil (as in every file
    /// written before it existed) means `channels`.
    public var synthesisChannels: Int?

    public init(objective: Objective = .ae, channels: Int = 128, latentChannels: Int = 192, synthesisChannels: Int? = nil) {
        self.objective = objective
        self.channels = channels
        self.latentChannels = latentChannels
        self.synthesisChannels = synthesisChannels == channels ? nil : synthesisChannels
    }

    /// Hidden channels of the synthesis.
    public var synthesisWidth: Int { synthesisChannels ?? channels }

    /// Image pixels per latent position along each side.
    public static let downsampling = 16
    /// Largest N or M a model file may declare (bounds memory before anything is built).
    public static let maxChannels = 1024

    public var analysisSpecs: [LayerSpec] {
        let n = channels, out = objective == .vae ? 2 * latentChannels : latentChannels
        return [
            LayerSpec(kind: .conv, inChannels: 3, outChannels: n, kernel: 5, stride: 2, padding: 2),
            LayerSpec(kind: .gdn, inChannels: n, outChannels: n),
            LayerSpec(kind: .conv, inChannels: n, outChannels: n, kernel: 5, stride: 2, padding: 2),
            LayerSpec(kind: .gdn, inChannels: n, outChannels: n),
            LayerSpec(kind: .conv, inChannels: n, outChannels: n, kernel: 5, stride: 2, padding: 2),
            LayerSpec(kind: .gdn, inChannels: n, outChannels: n),
            LayerSpec(kind: .conv, inChannels: n, outChannels: out, kernel: 5, stride: 2, padding: 2),
        ]
    }

    public var synthesisSpecs: [LayerSpec] {
        let n = synthesisWidth, m = latentChannels
        return [
            LayerSpec(kind: .convTranspose, inChannels: m, outChannels: n, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
            LayerSpec(kind: .igdn, inChannels: n, outChannels: n),
            LayerSpec(kind: .convTranspose, inChannels: n, outChannels: n, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
            LayerSpec(kind: .igdn, inChannels: n, outChannels: n),
            LayerSpec(kind: .convTranspose, inChannels: n, outChannels: n, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
            LayerSpec(kind: .igdn, inChannels: n, outChannels: n),
            LayerSpec(kind: .convTranspose, inChannels: n, outChannels: 3, kernel: 5, stride: 2, padding: 2, outputPadding: 1),
        ]
    }

    /// Multiply-accumulates per image pixel for one pass of (analysis, synthesis).
    public var macsPerPixel: (analysis: Double, synthesis: Double) {
        func count(_ specs: [LayerSpec], scales: [Double]) -> Double {
            zip(specs, scales).reduce(0) { total, item in
                let (s, area) = item
                switch s.kind {
                case .conv, .convTranspose: return total + Double(s.inChannels * s.outChannels * s.kernel * s.kernel) * area
                case .gdn, .igdn: return total + Double(s.inChannels * s.inChannels) * area
                default: return total
                }
            }
        }
        // Output area (analysis) or input area (synthesis) of each layer relative to the image.
        let a = count(analysisSpecs, scales: [1.0 / 4, 1.0 / 4, 1.0 / 16, 1.0 / 16, 1.0 / 64, 1.0 / 64, 1.0 / 256])
        let s = count(synthesisSpecs, scales: [1.0 / 256, 1.0 / 64, 1.0 / 64, 1.0 / 16, 1.0 / 16, 1.0 / 4, 1.0 / 4])
        return (a, s)
    }
}

import VlatTensor
