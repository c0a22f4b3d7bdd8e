"""Reference solutions: demo (imported)."""

# %% q1
def square(x):
    return x**2

# %% q2
def fiberator():
    yield 0
    yield 1
    x, y = 0, 1
    while True:
        x, y = y, x + y
        yield y

# %% q3
data = pd.DataFrame({
    "flavor": ["chocolate", "vanilla", "chocolate", "strawberry", "strawberry", "vanilla", "mint", 
               "mint", "chocolate"],
    "scoops": [1, 1, 2, 1, 3, 2, 1, 2, 3],
    "price": [2, 1.5, 3, 2, 4, 2, 4, 5, 5]
})
price_by_flavor = data.groupby("flavor").mean()["price"]
price_by_flavor

# %% q4
price_by_flavor.plot.bar();

# %% q5
# **SOLUTION:** mint is the highest...?
