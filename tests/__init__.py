"""Tests of treadreverse."""
