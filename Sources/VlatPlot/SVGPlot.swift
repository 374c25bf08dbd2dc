import Foundation

/// A small line chart written as standalone SVG: axes with round-numbered ticks, a grid, one
/// coloured polyline with markers per series, and a legend. Opens in any browser.
public struct SVGPlot: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var points: [(Double, Double)]
        public var dashed: Bool

        public init(name: String, points: [(Double, Double)], dashed: Bool = false) {
            self.name = name
            self.points = points
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 760.0
    public var height = 520.0

    static let palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Tick positions at 1, 2 or 5 times a power of ten, about `count` of them.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 6) -> [Double] {
        guard hi > lo else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw }!
        var out: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 { out.append(t); t += step }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    public func render() -> String {
        let all = series.flatMap(\.points)
        let left = 70.0, right = 150.0, top = 40.0, bottom = 55.0
        let plotW = width - left - right, plotH = height - top - bottom
        var xs = all.map(\.0), ys = all.map(\.1)
        if xs.isEmpty { xs = [0, 1]; ys = [0, 1] }
        var (x0, x1) = (0.0, xs.max()! * 1.05)
        var (y0, y1) = (ys.min()!, ys.max()!)
        let pad = max((y1 - y0) * 0.05, 0.5)
        y0 -= pad; y1 += pad
        if x1 <= x0 { x1 = x0 + 1 }
        let xt = Self.ticks(x0, x1), yt = Self.ticks(y0, y1)
        x0 = min(x0, xt.first!); y0 = min(y0, yt.first!)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - y0) / (y1 - y0) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func label(_ v: Double) -> String {
            // Whole numbers as integers (1000, not 1e+03); others with up to 3 significant digits.
            if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
            return String(format: "%.3g", v)
        }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left + plotW / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

        """
        for t in xt {
            svg += "<line x1=\"\(f(px(t)))\" y1=\"\(f(top))\" x2=\"\(f(px(t)))\" y2=\"\(f(top + plotH))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(f(px(t)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        for t in yt {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        svg += "<clipPath id=\"area\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath>\n"
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let path = s.points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<g clip-path=\"url(#area)\"><polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            for p in s.points { svg += "<circle cx=\"\(f(px(p.0)))\" cy=\"\(f(py(p.1)))\" r=\"3\" fill=\"\(color)\"/>\n" }
            svg += "</g>\n"
            let ly = top + 14 + Double(i) * 20
            svg += "<line x1=\"\(f(left + plotW + 14))\" y1=\"\(f(ly))\" x2=\"\(f(left + plotW + 40))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<text x=\"\(f(left + plotW + 46))\" y=\"\(f(ly + 4))\">\(Self.escape(s.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }
}
