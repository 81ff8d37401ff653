"""The program side shared by resources: `export_spend` (spending.py).

A program imports this on every run, so it loads neither httpx nor pydantic (a subprocess test
proves it). Each resource's own program class lives in its folder: `DedicatedEndpoint` in
`endpoint/program.py`, generated from `endpoint/fields.py` (`python -m devtools.generate_surface`),
with the hand-written half in `endpoint/_program.py`.
"""
