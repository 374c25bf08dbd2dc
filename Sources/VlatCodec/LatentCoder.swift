import VlatEntropy
import VlatFormat

/// One way to code a factorized model's integer latents (`[C, h, w]`, channel-major) into a
/// payload and back: what `ImageCodec` picks among for `--coder` (`auto` tries each and keeps
/// the smallest). Each names the header value its payloads carry. A hyperprior model codes with
/// its own payload instead (`HyperpriorCoding`), whose tables depend on side information.
///
/// ```swift
/// let coder = FactorizedLatentCoder.coder(for: .rans, model: model)!
/// let payload = try coder.encode(symbols, channels: 192, height: 32, width: 48)
/// let back = try coder.decode(payload, channels: 192, height: 32, width: 48)
/// ```
public protocol LatentCoder {
    /// The HEAD value of a file this coder wrote.
    var header: ContainerHeader.Coder { get }
    func encode(_ symbols: [Int32], channels: Int, height: Int, width: Int) throws -> [UInt8]
    /// Any damage is an error, never a trap or an allocation larger than the latent.
    func decode(_ payload: [UInt8], channels: Int, height: Int, width: Int) throws -> [Int32]
}

/// The factorized model's coders: static rANS with its tables (coder 1), context-adaptive rANS
/// starting from its tables or its fitted context tables (coders 3 and 4), zstd planes (coder 2).
public enum FactorizedLatentCoder {
    /// rANS, each channel with its table of the prior.
    public struct RANS: LatentCoder {
        let tables: [QuantizedCDF]
        public var header: ContainerHeader.Coder { .rans }
        public func encode(_ symbols: [Int32], channels: Int, height: Int, width: Int) throws -> [UInt8] {
            let plane = height * width
            return try RANSCoder.encode(symbols, tables: tables, tableIndex: { $0 / plane })
        }
        public func decode(_ payload: [UInt8], channels: Int, height: Int, width: Int) throws -> [Int32] {
            let plane = height * width
            return try RANSCoder.decode(payload, count: channels * plane, tables: tables, tableIndex: { $0 / plane })
        }
    }

    /// Context-adaptive rANS (`ContextRANSCoder`), from the fitted tables when given.
    public struct Context: LatentCoder {
        let tables: [QuantizedCDF]
        let priors: ContextPriors?
        public var header: ContainerHeader.Coder { priors == nil ? .ctx : .ctxFitted }
        public func encode(_ symbols: [Int32], channels: Int, height: Int, width: Int) throws -> [UInt8] {
            try ContextRANSCoder.encode(symbols, channels: channels, height: height, width: width, tables: tables, priors: priors)
        }
        public func decode(_ payload: [UInt8], channels: Int, height: Int, width: Int) throws -> [Int32] {
            try ContextRANSCoder.decode(payload, channels: channels, height: height, width: width, tables: tables, priors: priors)
        }
    }

    /// zstd over zigzag channel planes (`LatentPacking`).
    public struct Zstd: LatentCoder {
        public var header: ContainerHeader.Coder { .zstd }
        public func encode(_ symbols: [Int32], channels: Int, height: Int, width: Int) throws -> [UInt8] { LatentPacking.pack(symbols) }
        public func decode(_ payload: [UInt8], channels: Int, height: Int, width: Int) throws -> [Int32] {
            try LatentPacking.unpack(payload, count: channels * height * width)
        }
    }

    /// The coders `choice` asks of a factorized `model`, in the order `auto` tries them (the first
    /// of equal sizes wins); none for `hyperprior`.
    public static func coders(for choice: CoderChoice, model: CodecModel) -> [any LatentCoder] {
        let rans = RANS(tables: model.tables), ctx = Context(tables: model.tables, priors: model.contextPriors)
        switch choice {
        case .rans: return [rans]
        case .ctx: return [ctx]
        case .zstd: return [Zstd()]
        case .auto: return [rans, ctx, Zstd()]
        case .hyperprior: return []
        }
    }

    /// The coder that reads a file whose HEAD says `header`, or nil when a factorized model has none.
    /// Coder 4 needs the model's fitted context tables; coder 3 starts from the prior whatever the
    /// model holds.
    public static func coder(for header: ContainerHeader.Coder, model: CodecModel) -> (any LatentCoder)? {
        switch header {
        case .rans: return RANS(tables: model.tables)
        case .ctx: return Context(tables: model.tables, priors: nil)
        case .ctxFitted: return model.contextPriors.map { Context(tables: model.tables, priors: $0) }
        case .zstd: return Zstd()
        case .hyperprior, .hyperpriorContext, .hyperpriorChannelContext: return nil
        }
    }
}
