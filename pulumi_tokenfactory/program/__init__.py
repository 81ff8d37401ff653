"""The program side: what a Pulumi program constructs (`DedicatedEndpoint` and its argument types).

A program imports this on every run, so it loads neither httpx nor pydantic
(a subprocess test proves it); the provider object it pickles is a reference
to `pulumi_tokenfactory.provider.DedicatedEndpointProvider`, whose lifecycle
code in `host/` is only imported inside the provider host.

`resources.py` is generated from the field model (`python -m devtools.generate_surface`, from
`pulumi_tokenfactory/fields.py`); what the constructor does is hand-written in `_endpoint.py`.
"""
