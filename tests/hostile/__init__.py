"""A corpus of hostile submissions (cases.py), run by tests/test_hostile.py."""
