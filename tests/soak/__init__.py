"""The Home Assistant soak (issue 10): randomized sessions end to end on the simulated treadmill."""
