"""Public checks of the shapes exercises: they go into the hand-out of every assignment that
has one of these exercises, and run on the student's value only (never the answer).

A check returns None when the value is fine, else a short sentence saying what is wrong.
"""


def batch_of_three(shape):
    """The CIFAR10Model exercises follow one batch of N = 3 images through the network."""
    if shape and shape[0] != 3:
        return f"the first entry is the batch size, N = 3 (you gave {shape[0]})"
    return None
