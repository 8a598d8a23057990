"""Reading a saved run over its epochs: series of the measurements, its embeddings and their
cache, each method's own quantity. The maths is `lab.measure` (pure); the files are read and
written only through `lab.store`'s API. Modules: `series`, `embeddings`, `quantities`."""
