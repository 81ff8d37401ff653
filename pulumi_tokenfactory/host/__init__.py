"""The provider-host side: the lifecycle behind `DedicatedEndpointProvider`.

Runs only inside the process the Pulumi engine starts (`python -m pulumi.dynamic`):
check/diff/create/read/update/delete (`controller`), exactly-once creation,
waiting, adoption, the host's thread pool and the watch on the engine's pipe.
"""
