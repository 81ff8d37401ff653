"""The DedicatedEndpoint resource, in one folder.

* `fields.py`: its fields, declared once (kind, limits, docs); everything below derives from them.
* `program.py` (generated) and `_program.py`: what a Pulumi program constructs.
* `properties.py` (with the generated `_fields_generated.py`): the typed inputs and state.
* `validation.py`: the provider's `check`.
* `adapter.py`: the engine's property bags to and from those typed values.
* `controller.py`: create, read, update, delete, diff on typed values, with `adoption.py` and `readiness.py`.

Its reference tables (sdk-docs/dedicated-endpoint.md) are generated from `fields.py` too. The shared
machinery (the API client in `api/`, waiting, the exactly-once creator, the engine log in `host/`)
knows nothing of a program. Importing this package loads nothing: a program imports its
`program` module on every run and must not pay for pydantic or httpx.
"""
