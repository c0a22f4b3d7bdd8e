"""Stands in for `jedi` in grading kernels (first on their path): a grading kernel has no
use for it, and without it ipykernel and IPython start sooner. See grader.execute.environment.
"""

raise ImportError("jedi is not available in a grading kernel")
