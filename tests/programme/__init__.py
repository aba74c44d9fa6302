"""Tests of the programme layer."""
