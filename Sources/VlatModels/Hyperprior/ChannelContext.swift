import VlatTensor

/// The channel-group context of a mean-scale hyperprior, beside the checkerboard context
/// (the space-channel context of He et al. 2022, "ELIC"), in floating point for training.
///
/// The M latent channels split into G equal groups, coded one after another within each half of
/// the checkerboard. Each group after the first corrects its mean and log-scale from what the
/// decoder already has at the same position: the reconstructed (gained) latents of the groups
/// before it, and the current conditions of every channel there (means and log-scales, with
/// the earlier groups' corrections in them):
/// ```
/// a       = ReLU(W_1 [y^_<g ; P] + b_1)      // 1x1 layers over positions
/// delta_g = W_3 ReLU(W_2 a + b_2) + b_3      // W_3 and b_3 start at zero
/// P_g    += delta_g                           // group g's means and log-scales only
/// ```
/// where `y^ = round(g * y - mean) + mean` (a decoded value, exact on the receiver). The anchors
/// and the other positions have networks of their own: the anchors' conditions come from the
/// hyper-synthesis alone, the others' also from the checkerboard context. Coding order: the
/// anchors group by group, then the checkerboard context, then the other positions group by
/// group. Starting from zero, a model that gains a channel context codes exactly as before until
/// training moves it. `IntegerChannelContext` is its exact integer form for the codec.
///
/// In training the decoded values `y^` pass their gradient to `g * y` one for one (straight
/// through the rounding) and none to the means, as the synthesis input does.
public final class ChannelContext {
    public let latentChannels: Int
    public let groups: Int
    /// For each group after the first (index `g - 1`), the anchors' network and the other
    /// positions' network.
    public let anchorNetworks: [Sequential]
    public let otherNetworks: [Sequential]

    public init(latentChannels m: Int, groups: Int, hiddenChannels h: Int, generator: inout SeededGenerator) {
        precondition(groups >= 2 && m % groups == 0, "the latent channels must split into equal groups")
        latentChannels = m
        self.groups = groups
        func networks(_ half: String) -> [Sequential] {
            (1..<groups).map { g in
                let net = Sequential(name: "channel_context.\(half).\(g)", specs: Self.specs(group: g, latentChannels: m, groups: groups, hiddenChannels: h),
                                     generator: &generator)
                for p in net.layers[4].parameters { p.value = Tensor(zeros: p.value.shape) }
                return net
            }
        }
        anchorNetworks = networks("anchors")
        otherNetworks = networks("others")
    }

    /// The layers of group g's networks: `S g + 2M -> H`, ReLU, `H -> H`, ReLU, `H -> 2S`, all
    /// 1x1, with S = M / G.
    public static func specs(group g: Int, latentChannels m: Int, groups: Int, hiddenChannels h: Int) -> [LayerSpec] {
        let s = m / groups
        return [LayerSpec(kind: .conv, inChannels: s * g + 2 * m, outChannels: h, kernel: 1),
                LayerSpec(kind: .relu),
                LayerSpec(kind: .conv, inChannels: h, outChannels: h, kernel: 1),
                LayerSpec(kind: .relu),
                LayerSpec(kind: .conv, inChannels: h, outChannels: 2 * s, kernel: 1)]
    }

    public var groupSize: Int { latentChannels / groups }
    public var hiddenChannels: Int { anchorNetworks[0].layers[0].spec.outChannels }
    public var parameters: [Parameter] { (anchorNetworks + otherNetworks).flatMap(\.parameters) }

    /// The flat positions `n * plane + p` of the anchors (`anchors` true) or the others of a
    /// batch of `n` latents `h x w`, in order.
    static func positions(anchors: Bool, batch n: Int, height h: Int, width w: Int) -> [Int] {
        let plane = CheckerboardContext.positions(anchors: anchors, height: h, width: w)
        return (0..<n).flatMap { b in plane.map { b * h * w + $0 } }
    }

    /// Corrects the conditions `p` (`[N, 2M, h, w]`, means then log-scales) of one half's
    /// positions, group after group, from the gained latent `yg` (`[N, M, h, w]`): each group's
    /// decoded values are `round(yg + noise - mean) + mean` with its corrected means (`yg + noise`
    /// when `rounded` is false: the differentiable form that gradient checks need).
    public func correct(_ p: inout Tensor, anchors: Bool, gained yg: Tensor, noise: [Float]? = nil, rounded: Bool = true, training: Bool) {
        let m = latentChannels, s = groupSize, plane = yg.h * yg.w
        let at = Self.positions(anchors: anchors, batch: yg.n, height: yg.h, width: yg.w), count = at.count
        guard count > 0 else { return }
        let nets = anchors ? anchorNetworks : otherNetworks
        // The decoded values of the groups done so far, `[M, count]` (filled group by group).
        var decoded = [Float](repeating: 0, count: m * count)
        func decode(group g: Int) {
            for c in (g * s)..<((g + 1) * s) {
                for (k, q) in at.enumerated() {
                    let n = q / plane, i = (n * m + c) * plane + q % plane, j = (n * 2 * m + c) * plane + q % plane
                    let v = yg.data[i] + (noise?[i] ?? 0)
                    decoded[c * count + k] = rounded ? (v - p.data[j]).rounded() + p.data[j] : v
                }
            }
        }
        decode(group: 0)
        for g in 1..<groups {
            let rows = s * g + 2 * m
            var input = Tensor(zeros: [1, rows, 1, count])
            for r in 0..<(s * g) { for k in 0..<count { input.data[r * count + k] = decoded[r * count + k] } }
            for j in 0..<(2 * m) {
                for (k, q) in at.enumerated() {
                    input.data[(s * g + j) * count + k] = p.data[((q / plane) * 2 * m + j) * plane + q % plane]
                }
            }
            let delta = nets[g - 1].forward(input, training: training)
            for o in 0..<(2 * s) {
                let channel = o < s ? g * s + o : m + g * s + (o - s)
                for (k, q) in at.enumerated() {
                    p.data[((q / plane) * 2 * m + channel) * plane + q % plane] += delta.data[o * count + k]
                }
            }
            decode(group: g)
        }
    }

    /// The backward pass of `correct` for the same half (after its forward with `training`):
    /// `dP` is the gradient with respect to the corrected conditions on entry and with respect to
    /// the conditions before the correction on return; the returned tensor is the gradient
    /// reaching `yg` (`[N, M, h, w]`, zero away from this half).
    public func backward(_ dP: inout Tensor, anchors: Bool) -> Tensor {
        let m = latentChannels, s = groupSize, plane = dP.h * dP.w
        var dYg = Tensor(zeros: [dP.n, m, dP.h, dP.w])
        let at = Self.positions(anchors: anchors, batch: dP.n, height: dP.h, width: dP.w), count = at.count
        guard count > 0 else { return dYg }
        let nets = anchors ? anchorNetworks : otherNetworks
        for g in (1..<groups).reversed() {
            var dDelta = Tensor(zeros: [1, 2 * s, 1, count])
            for o in 0..<(2 * s) {
                let channel = o < s ? g * s + o : m + g * s + (o - s)
                for (k, q) in at.enumerated() { dDelta.data[o * count + k] = dP.data[((q / plane) * 2 * m + channel) * plane + q % plane] }
            }
            let dInput = nets[g - 1].backward(dDelta)
            for r in 0..<(s * g) {
                for (k, q) in at.enumerated() { dYg.data[((q / plane) * m + r) * plane + q % plane] += dInput.data[r * count + k] }
            }
            for j in 0..<(2 * m) {
                for (k, q) in at.enumerated() { dP.data[((q / plane) * 2 * m + j) * plane + q % plane] += dInput.data[(s * g + j) * count + k] }
            }
        }
        return dYg
    }
}
