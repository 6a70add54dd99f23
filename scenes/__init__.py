"""Scenes: one file each. Every module here registers its Scene class on import."""
