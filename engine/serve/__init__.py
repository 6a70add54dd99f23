"""The generator served by NVIDIA Triton Inference Server: a model repository from a model folder
(export.py) and, for tests and a single machine, the server itself from the pytriton wheel
(server.py). The engine's client side is engine/generator/remote.py."""
