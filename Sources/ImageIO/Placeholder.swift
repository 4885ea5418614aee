import TensorOps
