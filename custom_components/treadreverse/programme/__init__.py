"""Backward-interval programmes: schema, built-in library, safety compiler and engine.

Nothing in this package imports Home Assistant.
"""
