"""Offline quality metrics for generator folders: each module measures one thing, with numpy or torch on CPU.

swd (detail per pyramid level), spectrum (power by frequency), classifier + coverage (families the
generator reaches), memorisation (distance to the nearest training image). models/evaluate.py runs them
side by side for one or more models and writes the report.
"""
