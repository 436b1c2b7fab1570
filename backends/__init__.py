"""Device backends: one module per backend, each a class implementing minigrad.backend.Backend."""
