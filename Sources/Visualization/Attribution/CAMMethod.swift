import ModelGraph
import TensorOps

/// The class-activation-map methods of `convlens cam`, as pytorch-grad-cam defines them (and Zhou et al. for CAM).
public enum CAMMethod: String, Sendable, CaseIterable {
    case gradCAM = "gradcam"
    case gradCAMPlusPlus = "gradcam++"
    case xGradCAM = "xgradcam"
    case layerCAM = "layercam"
    case hiResCAM = "hirescam"
    /// Score-CAM: each channel's weight is the softmax over channels of the class score of the input masked by that
    /// channel's upsampled, normalized activation. No gradients.
    case scoreCAM = "scorecam"
    /// SS-CAM (torch-cam): Score-CAM's masks normalized at the layer's size, upsampled, with Gaussian noise added;
    /// the weight is the softmax of the mean score gain over the noisy samples.
    case ssCAM = "sscam"
    /// IS-CAM (torch-cam): the masked images scaled by growing coefficients, the weight the softmax of the mean
    /// score gain over those steps.
    case isCAM = "iscam"
    /// Ablation-CAM: each channel's weight is the class score's relative drop when that channel is ablated (set to
    /// 0, or far below the activation's minimum when that is not 0). No gradients.
    case ablationCAM = "ablationcam"
    /// Smooth Grad-CAM++ (torch-cam): Grad-CAM++'s pixel weights from the gradient's square and cube averaged over
    /// noisy copies of the input.
    case smoothGradCAMPlusPlus = "smoothgradcampp"
    /// Finer-CAM (pytorch-grad-cam): Grad-CAM of the class's score against the most similar classes' (`FinerCAMTarget`).
    case finerCAM = "finercam"
    /// FullGrad (pytorch-grad-cam): |input × its gradient| plus |bias × gradient| of every layer with a bias, each
    /// channel scaled and resized to the input, summed. No layer to choose.
    case fullGrad = "fullgrad"
    /// The original CAM: the weights of the linear layer after global average pooling, for the class.
    case cam
    /// Eigen-CAM: the activations' projection on their first principal component. No gradients, no class.
    case eigenCAM = "eigencam"

    /// The gradient rule, for the methods that have one.
    public var gradientRule: CAMRule? {
        switch self {
        case .gradCAM, .finerCAM: .gradCAM
        case .gradCAMPlusPlus: .gradCAMPlusPlus
        case .xGradCAM: .xGradCAM
        case .layerCAM: .layerCAM
        case .hiResCAM: .hiResCAM
        case .smoothGradCAMPlusPlus, .scoreCAM, .ssCAM, .isCAM, .ablationCAM, .fullGrad, .cam, .eigenCAM: nil
        }
    }
}

/// The linear layer after global average pooling that the original CAM needs, found by walking back from the
/// model's output.
struct CAMHead {
    /// The global average pool's input: the layer CAM maps.
    let layer: String
    /// The linear layer's weight (classes × channels).
    let weight: HostTensor

    /// - Throws: `VisualizationError.badSetting` saying what the model has instead.
    init(graph: Graph) throws {
        func fail(_ why: String) -> VisualizationError {
            .badSetting("--method cam needs a global-average-pool + linear head: \(why)")
        }
        let producers = Dictionary(graph.nodes.map { ($0.output, $0) }, uniquingKeysWith: { $1 })
        var value = graph.outputs[0]
        // Past a softmax, an identity and the bias addition of an unfused Gemm, to the linear layer.
        while let node = producers[value] {
            switch node.operation {
            case .softmax, .identity: value = node.inputs[0]
                continue
            case .binary(.add) where graph.constants[node.inputs[1]] != nil: value = node.inputs[0]
                continue
            default: break
            }
            break
        }
        guard let linear = producers[value], case .linear = linear.operation else {
            throw fail("the output comes from \(producers[value].map { "'\($0.name)' (\($0.opType))" } ?? "the input"), not a linear layer")
        }
        guard let weight = graph.constants[linear.inputs[1]] else {
            throw fail("the last linear layer '\(linear.name)' has no constant weight")
        }
        value = linear.inputs[0]
        while let node = producers[value] {
            switch node.operation {
            case .flatten, .reshape, .identity: value = node.inputs[0]
                continue
            case .globalAveragePool:
                self.layer = node.inputs[0]
                self.weight = weight
                return
            default:
                throw fail("the linear layer '\(linear.name)' reads '\(node.name)' (\(node.opType)), not a global average pool")
            }
        }
        throw fail("the linear layer '\(linear.name)' reads the input directly")
    }
}
