"""roots-pipeline: turn raw multilingual text into training-ready data, the way ROOTS was built."""

__version__ = "0.1.0"
