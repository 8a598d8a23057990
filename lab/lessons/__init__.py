"""Lessons: each seed paper's claim shown by CE and the method trained side by side (`core`: the
lessons file and its settings), how each was chosen (`provenance`), and what one seed shows
(`outcome`)."""
from lab.lessons.core import (ACC_SLACK, ANY_MARGIN, ANY_METHOD, LESSONS, SOURCE, Criterion, Lesson, defaults_of, load,
                              lesson, role, saved_pair, train_lesson, with_data, with_method)
from lab.lessons.outcome import Outcome, describe, final_value, fmt, outcome
from lab.lessons.provenance import provenance, settings_text, witness_text

__all__ = ["ACC_SLACK", "ANY_MARGIN", "ANY_METHOD", "LESSONS", "SOURCE", "Criterion", "Lesson", "Outcome", "defaults_of",
           "describe", "final_value", "fmt", "lesson", "load", "outcome", "provenance", "role", "saved_pair",
           "settings_text", "train_lesson", "with_data", "with_method", "witness_text"]
