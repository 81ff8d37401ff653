"""The provider-host machinery a resource's controller (`endpoint.controller`) uses.

Runs only inside the process the Pulumi engine starts (`python -m pulumi.dynamic`):
exactly-once creation and its routing key, waiting, the host's thread pool, the lines
on a resource's row, one-line failures, interrupts and the watch on the engine's pipe.
"""
