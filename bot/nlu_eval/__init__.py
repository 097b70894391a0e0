"""NLU evaluation: the held-out split, the macro-F1 gate (evaluate.py) and checks of the data (tests/)."""
