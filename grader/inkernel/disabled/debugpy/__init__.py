"""Stands in for `debugpy` in grading kernels (first on their path): a grading kernel has no
use for it, and without it ipykernel and IPython start sooner. See grader.execute.environment.
"""

raise ImportError("debugpy is not available in a grading kernel")
