"""Tests against a real Home Assistant core."""
