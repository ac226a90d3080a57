"""An nn.Module trained with torch.optim: a small regression net, SGD with momentum then Adam,
a scheduler, train/eval modes and the optimizer's state dict."""

import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(1, 16)
        self.act = nn.Tanh()
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)))


torch.set_default_dtype(torch.float64)
model = Net()
with torch.no_grad():  # the same start in any library
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.7, 0.9, p.numel()).reshape(p.shape) * (1 + i) / 4)

x = torch.linspace(-2, 2, 64).unsqueeze(1)
y = x ** 3 - x
loss_fn = nn.MSELoss()
print(model)

for opt_name, optimizer in [
    ("SGD", torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)),
    ("Adam", torch.optim.Adam(model.parameters(), lr=0.01)),
]:
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)
    model.train()
    for step in range(300):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 100 == 99:
            print(opt_name, step, f"{loss.item():.8f}", scheduler.get_last_lr())
    print(loss)
    groups = optimizer.state_dict()["param_groups"][0]
    print(sorted(groups))

model.eval()
with torch.no_grad():
    print(model(torch.tensor([[-1.5], [0.0], [1.5]])))
print(model.out.bias)
