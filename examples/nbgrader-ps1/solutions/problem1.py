"""Reference solutions: problem1 (imported)."""

# %% squares
def squares(n):
    """Compute the squares of numbers from 1 to n, such that the 
    ith element of the returned list equals i^2.
    
    """
    if n < 1:
        raise ValueError("n must be greater than or equal to 1")
    return [i ** 2 for i in range(1, n + 1)]

# %% sum_of_squares
def sum_of_squares(n):
    """Compute the sum of the squares of numbers from 1 to n."""
    return sum(squares(n))

# %% sum_of_squares_equation
# $\sum_{i=1}^n i^2$

# %% sum_of_squares_application
def pyramidal_number(n):
    """Returns the n^th pyramidal number"""
    return sum_of_squares(n)

# %% cell-938593c4a215c6cc
# a task: nbgrader has no reference answer
