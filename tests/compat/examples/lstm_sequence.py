"""An LSTM on a toy sequence: read a sine wave, predict its next value; nn.LSTM + nn.Linear,
trained with Adam and gradient clipping."""

import math

import torch
from torch import nn


class SinePredictor(nn.Module):
    def __init__(self, hidden_size=8):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, (h_n, c_n) = self.lstm(x)
        return self.head(out[:, -1, :])


torch.set_default_dtype(torch.float64)
model = SinePredictor()
with torch.no_grad():  # the same start in any library
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.4, 0.5, p.numel()).reshape(p.shape) * math.cos(i))
print(model)
print([(name, tuple(p.shape)) for name, p in model.named_parameters()])

# windows of 12 samples of sin(t) and the sample after each
t = torch.linspace(0, 4 * math.pi, 80)
wave = torch.sin(t)
x = torch.stack([wave[i:i + 12] for i in range(60)]).unsqueeze(-1)
y = torch.stack([wave[i + 12] for i in range(60)]).unsqueeze(-1)
print(x.shape, y.shape)

optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
loss_fn = nn.MSELoss()
for step in range(120):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    if step % 30 == 29:
        print(step, f"{loss.item():.8f}", f"{norm.item():.8f}")

out, (h_n, c_n) = model.lstm(x[:2])
print(out.shape, h_n.shape, c_n.shape)
with torch.no_grad():
    print(model(x[:3]))
print(loss)
