"""Test harness: drive dynamic providers like the Pulumi engine, and run programs under mocks.

* :mod:`devtools.enginehost` -- a real ``python -m pulumi.dynamic`` host spoken to over gRPC
  with the same requests the engine sends (Configure first, Struct-encoded values, unknowns).
* :mod:`tests.harness.mocks` -- ``run_program`` under ``pulumi.runtime.set_mocks`` that also
  captures stack exports.

Import the submodules directly; this package keeps no state of its own.
"""
