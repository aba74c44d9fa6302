"""Deliberate rule-breaking patches that the safety tests must catch (see catalogue.py)."""
