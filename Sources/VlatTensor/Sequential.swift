/// Layers applied in order; backward runs them in reverse.
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    /// Builds fresh layers from specs; parameter names are `"\(name).\(index)..."`.
    public convenience init(name: String, specs: [LayerSpec], generator: inout SeededGenerator) {
        self.init(specs.enumerated().map { $0.element.build(name: "\(name).\($0.offset)", generator: &generator) })
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var specs: [LayerSpec] { layers.map(\.spec) }
    public var spec: LayerSpec { preconditionFailure("a Sequential is described by its layers' specs") }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard !training else { return layers.reduce(x) { $1.forward($0, training: true) } }
        // At inference a direct convolution applies the activation after it in its own pass,
        // and a GDN the level modulation after it.
        var h = x, l = 0
        while l < layers.count {
            if let slope = Conv2d.fusedActivationSlope(layers, at: l), let conv = layers[l] as? Conv2d {
                h = conv.forward(h, activationSlope: slope)
                l += 2
            } else if let modulation = GDN.fusedModulation(layers, at: l), let gdn = layers[l] as? GDN {
                h = gdn.forward(h, modulatedBy: modulation)
                l += 2
            } else {
                h = layers[l].forward(h, training: false)
                l += 1
            }
        }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        layers.reversed().reduce(dy) { $1.backward($0) }
    }
}
