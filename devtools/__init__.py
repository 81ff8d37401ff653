"""Repository tooling shared by the demo, the tests and the benchmarks; not part of the installed package.

`realcli` finds or builds the real Pulumi CLI and runs programs through it offline;
`programs` holds the Pulumi programs those runs use (the examples as shipped, and variants).
"""
