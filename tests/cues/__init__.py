"""Tests of the spoken cue texts."""
