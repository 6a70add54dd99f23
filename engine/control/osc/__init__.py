"""OSC: the wire format, the safety limits, the dispatcher into commands, the sender, OSCQuery."""
