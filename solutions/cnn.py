"""Reference solutions: the CIFAR10Model, its receptive field and cost, and its training."""

# %% cnn-model
class CIFAR10Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))  # (N, 32, 16, 16)
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))  # (N, 64, 8, 8)
        x = self.gap(x)  # (N, 64, 1, 1)
        x = self.flatten(x)  # (N, 64)
        return self.fc(x)  # (N, 10) logits


model = CIFAR10Model()
# sum(p.numel() for p in model.parameters()) == 20234

# %% cnn-receptive-field
r, j = 1, 1  # receptive field and jump, in input pixels
for k, s in [(3, 1), (2, 2), (3, 1), (2, 2)]:  # conv1, pool, conv2, pool
    r = r + (k - 1) * j
    j = j * s
receptive_field = r
# r: 1 -> 3 -> 4 -> 8 -> 10

# %% cnn-macs
c_in, c_out, k = 3, 32, 3
h_out = w_out = (32 + 2 * 1 - (k - 1) - 1) // 1 + 1  # padding 1: 32 x 32 outputs per channel
conv1_macs = c_out * h_out * w_out * k * k * c_in
# 32 * 32 * 32 * 27 = 884736

# %% cnn-train
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)

model = CIFAR10Model().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

batch_size = 64
epochs = 3
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
