import Foundation
import VlatCodec
import VlatImageIO

// Compresses an image with the installed models and decodes it again:
//   swift run --package-path Examples/Consumer Consumer Corpus/photos/chelsea.png
let path = CommandLine.arguments.dropFirst().first ?? "Corpus/photos/chelsea.png"
do {
    let codec = Codec()
    let bytes = try codec.compress(file: path, quality: 4)
    let image = try codec.decompress(bytes)
    print("\(path): \(image.width)x\(image.height), \(bytes.count) bytes as .vlat")
} catch {
    print("error: \(error)")
    exit(1)
}
