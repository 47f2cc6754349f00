"""jaxact internals: one module per family of activations and the shared machinery."""
