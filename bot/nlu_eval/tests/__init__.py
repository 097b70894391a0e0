"""Checks of the NLU training data and the evaluation arithmetic (run from bot/: python -m pytest nlu_eval/tests)."""
