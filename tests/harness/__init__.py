"""Test-only helpers (see tests/README.md). What the benchmarks share with the tests lives in devtools/.

* :mod:`devtools.harness` -- the emulator account, a provider host configured for it, resources
  driven through the engine stand-in (:mod:`devtools.enginehost`); the engine fixtures build on it.
* :mod:`tests.harness.accounts` -- what an engine suite's account looks like (``AccountSettings``).
* :mod:`tests.harness.emulators` -- the emulator in process, on a manual clock.
* :mod:`tests.harness.mocks` -- ``run_program`` under ``pulumi.runtime.set_mocks``, capturing exports.
* :mod:`tests.harness.acceptance`, :mod:`tests.harness.fidelity` -- real-CLI steps, stand-in vs real engine.

Import the submodules directly; this package keeps no state of its own.
"""
