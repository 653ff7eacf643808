"""Evaluation protocols shared by every method."""
