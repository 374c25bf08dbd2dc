import VlatTensor

/// Turns the training images into batches of random crops: a pure function of (seed, step), so
/// a resumed run sees exactly the batches an uninterrupted one would have.
///
/// Each crop picks an image uniformly, a position uniformly, and flips horizontally and
/// vertically with probability 1/2 each. An image smaller than the crop is extended by
/// replicating its edge pixels.
public struct BatchSampler: Sendable {
    public var images: [RGBImage]
    public var batchSize: Int
    public var crop: Int
    public var seed: UInt64

    public init(images: [RGBImage], batchSize: Int, crop: Int, seed: UInt64) {
        precondition(!images.isEmpty && batchSize > 0 && crop > 0)
        self.images = images
        self.batchSize = batchSize
        self.crop = crop
        self.seed = seed
    }

    /// The batch for `step`: `[batchSize, 3, crop, crop]`, values in [0, 1].
    public func batch(step: Int) -> Tensor {
        var g = SeededGenerator(seed: seed, stream: UInt64(step))
        var out = Tensor(zeros: [batchSize, 3, crop, crop])
        let plane = crop * crop
        out.data.withUnsafeMutableBufferPointer { dst in
            for b in 0..<batchSize {
                let image = images[Int(g.next() % UInt64(images.count))]
                let x0 = Int(g.next() % UInt64(max(1, image.width - crop + 1)))
                let y0 = Int(g.next() % UInt64(max(1, image.height - crop + 1)))
                let bits = g.next()
                let flipX = bits & 1 == 1, flipY = bits & 2 == 2
                image.pixels.withUnsafeBufferPointer { src in
                    for y in 0..<crop {
                        let sy = min(image.height - 1, y0 + (flipY ? crop - 1 - y : y))
                        for x in 0..<crop {
                            let sx = min(image.width - 1, x0 + (flipX ? crop - 1 - x : x))
                            let s = (sy * image.width + sx) * 3
                            let d = b * 3 * plane + y * crop + x
                            dst[d] = PixelScale.value(src[s])
                            dst[d + plane] = PixelScale.value(src[s + 1])
                            dst[d + 2 * plane] = PixelScale.value(src[s + 2])
                        }
                    }
                }
            }
        }
        return out
    }

    /// Fixed validation crops: the centre `size x size` of each image (smaller images are
    /// edge-extended), one tensor per image.
    public static func centreCrops(_ images: [RGBImage], size: Int) -> [Tensor] {
        images.map { image in
            var t = Tensor(zeros: [1, 3, size, size])
            let x0 = max(0, (image.width - size) / 2), y0 = max(0, (image.height - size) / 2)
            for y in 0..<size {
                for x in 0..<size {
                    let s = (min(image.height - 1, y0 + y) * image.width + min(image.width - 1, x0 + x)) * 3
                    for c in 0..<3 { t.data[c * size * size + y * size + x] = PixelScale.value(image.pixels[s + c]) }
                }
            }
            return t
        }
    }
}
