"""Importers of courses written for other graders: nbgrader's source notebooks
(``grader.importers.nbgrader``) and otter-grader's master notebooks (``grader.importers.otter``).

Each reads its notebooks as text and with ``ast`` only (no source notebook's code is run: a
solution's correctness is checked by ``grade build`` later, sandboxed), turns them into a
draft course (``grader.importers.draft``), translating every autograded test it can into the
closest grade kind (``grader.importers.translate``), and keeps the rest as ``manual``
exercises with the original test in the rubric, saying so cell by cell.
"""
