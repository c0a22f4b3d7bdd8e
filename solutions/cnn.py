"""Reference solutions: the CIFAR10Model, its receptive field and cost, a sanity check, and
its training."""

# %% cnn-model
class CIFAR10Model(nn.Module):
    def __init__(self, in_channels, output_dim):
        super().__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3),  # (N, 32, 30, 30)
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),  # (N, 32, 15, 15)
            nn.Conv2d(32, 64, kernel_size=3),  # (N, 64, 13, 13)
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),  # (N, 64, 6, 6): 13 // 2 = 6
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),  # (N, 64, 1, 1)
        )
        self.flatten = nn.Flatten(start_dim=1)  # (N, 64)
        self.classifier = nn.Sequential(nn.Linear(64, output_dim))  # (N, 10) logits

    def forward(self, x):
        return self.classifier(self.flatten(self.feature_extractor(x)))


model = CIFAR10Model(in_channels=3, output_dim=10)
# sum(p.numel() for p in model.parameters()) == 20234

# %% cnn-receptive-field
r, j = 1, 1  # receptive field and jump, in input pixels
for k, s in [(3, 1), (2, 2), (3, 1), (2, 2)]:  # conv, max-pool, conv, max-pool
    r = r + (k - 1) * j
    j = j * s
receptive_field = r
# r: 1 -> 3 -> 4 -> 8 -> 10

# %% cnn-macs
c_in, c_out, k = 3, 32, 3
h_out = w_out = (32 + 2 * 0 - (k - 1) - 1) // 1 + 1  # no padding: 30 x 30 outputs per channel
conv1_macs = c_out * h_out * w_out * k * k * c_in
# 32 * 30 * 30 * 27 = 777600

# %% cnn-overfit
torch.manual_seed(0)
overfit_model = CIFAR10Model(3, 10)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(overfit_model.parameters(), lr=0.01)

overfit_losses = []
for epoch in range(10):
    output = overfit_model(batch_x)
    loss = loss_fn(output, batch_y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    overfit_losses.append(loss.item())
    print(f"epoch {epoch + 1:2}/10: loss {loss.item():.4f}")

# %% cnn-train
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)

model = CIFAR10Model(3, 10).to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

batch_size = 64
epochs = 2
losses = []

model.train()  # BatchNorm uses batch statistics and updates its running averages
for epoch in range(epochs):
    order = torch.randperm(len(train_x))  # a new shuffle every epoch
    epoch_losses = []
    for start in range(0, len(train_x), batch_size):
        idx = order[start:start + batch_size]
        xb, yb = train_x[idx].to(device), train_y[idx].to(device)  # images and their own labels
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        epoch_losses.append(loss.item())
    losses.extend(epoch_losses)
    print(f"epoch {epoch + 1}: mean loss {sum(epoch_losses) / len(epoch_losses):.3f}")
model.eval()  # BatchNorm now uses its running averages
