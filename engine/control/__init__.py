"""Every control surface in one package, each feeding the same command queue (commands.py) and the
parameter registry: OSC (osc/), MIDI, Ableton Link, HTTP (status, metrics, the staff's web panel).
"""
