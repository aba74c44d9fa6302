"""Talk to treadmills: FTMS over Bluetooth, a simulated FTMS treadmill, a manual one.

Nothing in this package imports Home Assistant, so it can be tested alone and
published as a library one day.
"""
