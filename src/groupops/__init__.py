"""groupops: run chat communities for the people who operate them."""

__version__ = "0.1.0"
