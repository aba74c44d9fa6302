"""Tests of the treadmill layer."""
