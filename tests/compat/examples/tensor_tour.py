"""A tour of tensors the way PyTorch's quickstart does it: device choice, creation, attributes,
indexing, joining, arithmetic with out=, in-place ops and the NumPy bridge."""

import numpy as np
import torch

device = (
    "cuda" if torch.cuda.is_available()
    else "mps" if torch.backends.mps.is_available()
    else "cpu"
)
print(f"Using {device} device")
print(torch.accelerator.is_available(), torch.cuda.device_count())

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data, device=device)
x_np = torch.from_numpy(np.array(data))
x_ones = torch.ones_like(x_data)
x_zeros = x_data.new_zeros(2, 3)
print(x_data, x_np, x_ones, x_zeros, sep="\n")

shape = (2, 3)
tensor = torch.ones(shape, dtype=torch.float32)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

tensor = torch.arange(16.0).reshape(4, 4) / 3
tensor = tensor.to(device)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1)
print(t1.size(), t1.shape[1:], t1.numel())

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.empty(0)
torch.matmul(tensor, tensor.T, out=y3)
print(y1.equal(y2), torch.allclose(y1, y3))
z3 = torch.empty(4, 4)
torch.mul(tensor, tensor, out=z3)
print(z3)
agg = tensor.sum()
print(agg.item(), type(agg.item()))
tensor.add_(5)
print(tensor)

t = torch.ones(5)
n = t.numpy()
t.add_(1)
print(f"t: {t}", f"n: {n}", sep="\n")
n2 = np.ones(3)
t2 = torch.from_numpy(n2)
np.add(n2, 1, out=n2)
print(t2)
print(torch.tensor([1e-6, 1.0]), torch.tensor([100000.0, 1.0]), torch.tensor([True, False]))
print(torch.arange(1200.0))
print(torch.zeros(2, 3, dtype=torch.float64).new_full((2,), 7))
