import Foundation

/// A training run's CSV log: one row per step (`step,elapsed_s,lr,loss,mse,train_psnr,kl_bpp,
/// val_psnr,val_bpp`), appended to when a run resumes.
public final class TrainingLog {
    let handle: FileHandle

    public static let header = "step,elapsed_s,lr,loss,mse,train_psnr,kl_bpp,val_psnr,val_bpp\n"

    public init(path: String, append: Bool) throws {
        handle = try Self.open(path: path, header: Self.header, append: append)
    }

    public func append(_ p: TrainingProgress) {
        let kl = p.klBitsPerPixel.map { String(format: "%.5f", $0) } ?? ""
        let val = p.validationPSNR.map { String(format: "%.4f", $0) } ?? ""
        let valBPP = p.validationBPP.map { String(format: "%.5f", $0) } ?? ""
        // Steps that do not reconstruct (--prior-only) leave the MSE and PSNR fields empty.
        let reconstruction = p.mse.isNaN ? "," : String(format: "%.6f,%.4f", p.mse, p.psnr)
        let line = String(format: "%d,%.2f,%.3e,%.6f,", p.step, p.elapsed, p.learningRate, p.loss) + reconstruction + ",\(kl),\(val),\(valBPP)\n"
        handle.write(Data(line.utf8))
    }

    /// A log file opened for appending, created with `header` unless appending to one that exists.
    static func open(path: String, header: String, append: Bool) throws -> FileHandle {
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: Data(header.utf8)) else {
                throw TrainingError.invalidOption("\(path): cannot create the log file")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw TrainingError.invalidOption("\(path): cannot open the log file") }
        h.seekToEndOfFile()
        return h
    }
}

/// A hyperprior run's per-level validation log: one row per level at every validation
/// (`step,level,lambda,val_psnr,val_bpp`).
public final class LevelLog {
    let handle: FileHandle

    public init(path: String, append: Bool) throws {
        handle = try TrainingLog.open(path: path, header: "step,level,lambda,val_psnr,val_bpp\n", append: append)
    }

    public func append(step: Int, lambdas: [Float], points: [(psnr: Double, bpp: Double)]) {
        let rows = zip(lambdas, points).enumerated().map { k, item in
            String(format: "%d,%d,%g,%.4f,%.5f\n", step, k + 1, Double(item.0), item.1.psnr, item.1.bpp)
        }
        handle.write(Data(rows.joined().utf8))
    }
}
