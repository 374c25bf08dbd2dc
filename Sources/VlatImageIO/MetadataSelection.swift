/// Which of an image's metadata to keep: the ICC profile, EXIF, XMP. Parsed from the command
/// line's `--metadata` values as cwebp's `-metadata` is: `all`, `none`, or a comma-separated
/// list.
///
/// ```swift
/// let kept = try MetadataSelection(parsing: "icc,exif").apply(to: image)   // XMP removed
/// ```
public struct MetadataSelection: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let icc = MetadataSelection(rawValue: 1)
    public static let exif = MetadataSelection(rawValue: 2)
    public static let xmp = MetadataSelection(rawValue: 4)
    public static let all: MetadataSelection = [.icc, .exif, .xmp]
    public static let none: MetadataSelection = []

    /// The names `init(parsing:)` takes in a list.
    public static let names: [(String, MetadataSelection)] = [("icc", .icc), ("exif", .exif), ("xmp", .xmp)]

    /// `all`, `none`, or names from `names` separated by commas; nil for anything else.
    public init?(parsing text: String) {
        switch text {
        case "all": self = .all
        case "none": self = .none
        default:
            var selection = MetadataSelection.none
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let entry = Self.names.first(where: { $0.0 == part }) else { return nil }
                selection.insert(entry.1)
            }
            self = selection
        }
    }

    /// `image` without the metadata this selection leaves out.
    public func apply(to image: Image) -> Image {
        var out = image
        if !contains(.icc) { out.iccProfile = nil }
        if !contains(.exif) { out.exif = nil }
        if !contains(.xmp) { out.xmp = nil }
        return out
    }
}
