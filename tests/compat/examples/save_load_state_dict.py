"""Save a model's state dict and optimizer state with torch.save, load them into fresh objects
with torch.load, and check the restored model computes the same thing."""

import os
import tempfile

import torch
from torch import nn

torch.set_default_dtype(torch.float64)
model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-1, 1, p.numel()).reshape(p.shape) / (i + 1))
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
x = torch.linspace(-1, 1, 12).reshape(4, 3)
for _ in range(5):
    optimizer.zero_grad()
    model(x).pow(2).mean().backward()
    optimizer.step()

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "checkpoint.pt")
    torch.save({"epoch": 5, "model": model.state_dict(), "optimizer": optimizer.state_dict()},
               path)
    checkpoint = torch.load(path, weights_only=True, map_location="cpu")

print(checkpoint["epoch"], list(checkpoint["model"].keys()))
restored = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
print(restored.load_state_dict(checkpoint["model"]))
opt2 = torch.optim.Adam(restored.parameters(), lr=0.01)
opt2.load_state_dict(checkpoint["optimizer"])
print(checkpoint["model"]["0.bias"])
print(torch.equal(model(x), restored(x)), restored(x))
for o, m in ((optimizer, model), (opt2, restored)):
    o.zero_grad()
    m(x).pow(2).mean().backward()
    o.step()
print(torch.allclose(model(x), restored(x)), restored[2].weight)
print(opt2.state_dict()["state"][0]["step"])
