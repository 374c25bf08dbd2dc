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
        var h = x, l = 0
        while l < layers.count {
            if let pair = Self.fusedInference(layers, at: l) {
                h = pair(h)
                l += 2
            } else {
                h = layers[l].forward(h, training: false)
                l += 1
            }
        }
        return h
    }

    /// Layers `l` and `l + 1` as one inference pass, when layer `l` can take the next one into
    /// its own (a direct convolution the activation after it, `Conv2d.fusedActivationSlope`; a
    /// GDN the level modulation after it, `GDN.fusedModulation`): the values the two give one
    /// after the other. Nil otherwise. `forward` and `BandedInference` run stacks through it.
    static func fusedInference(_ layers: [any Layer], at l: Int) -> ((Tensor) -> Tensor)? {
        if let slope = Conv2d.fusedActivationSlope(layers, at: l), let conv = layers[l] as? Conv2d {
            return { conv.forward($0, activationSlope: slope) }
        }
        if let modulation = GDN.fusedModulation(layers, at: l), let gdn = layers[l] as? GDN {
            return { gdn.forward($0, modulatedBy: modulation) }
        }
        return nil
    }

    public func backward(_ dy: Tensor) -> Tensor {
        layers.reversed().reduce(dy) { $1.backward($0) }
    }
}
