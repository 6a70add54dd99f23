"""The gallery staff's web panel: one page at `/` on the engine's HTTP port (engine.control.http).

Status, scene and preset switch, blackout, the parameters as sliders, and a small live picture of
the output. Control goes through the OSC dispatcher and the command queue like every other surface
(origin "web"); the picture is read back only while a panel is open. See docs/web_panel.md.
"""
