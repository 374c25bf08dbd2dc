import VlatImageIO

/// An image as float planes, one per channel, values on the 0...255 scale: what the classical
/// filters work on. Float64, so filter comparisons are not limited by rounding.
public struct Planes: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: [[Double]]

    public init(width: Int, height: Int, channels: [[Double]]) {
        precondition(channels.allSatisfy { $0.count == width * height })
        self.width = width
        self.height = height
        self.channels = channels
    }

    /// R, G, B planes of an image (grey replicated, alpha dropped).
    public init(_ image: Image) {
        let rgb = image.rgbSamples(), n = image.pixelCount
        self.init(width: image.width, height: image.height,
                  channels: (0..<3).map { c in (0..<n).map { Double(rgb[3 * $0 + c]) } })
    }

    /// Rounded and clamped to 8-bit RGB.
    public func image() -> Image {
        let n = width * height
        var rgb = [UInt8](repeating: 0, count: 3 * n)
        for c in 0..<3 { for i in 0..<n { rgb[3 * i + c] = UInt8(min(255, max(0, channels[c][i].rounded()))) } }
        return Image(width: width, height: height, layout: .rgb, pixels: rgb)
    }

    public func map(_ f: ([Double]) -> [Double]) -> Planes {
        Planes(width: width, height: height, channels: channels.map(f))
    }
}
