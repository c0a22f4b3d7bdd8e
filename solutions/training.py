"""Reference solution: the training loop as a function."""

# %% train-function
def train(model, loader, epochs, lr):
    """Train model on loader's mini-batches; return the mean mini-batch loss of each epoch."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)  # one optimizer for all epochs
    model.train()
    means = []
    for epoch in range(epochs):
        total, batches = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        means.append(total / batches)
    return means
