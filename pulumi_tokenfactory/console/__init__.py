"""Console commands installed with the package (`tokenfactory-adopt`, ...): operator tools, not providers."""
