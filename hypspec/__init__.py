"""hypspec: a formal, executable and readable specification of ARM split-mode virtualization."""

__version__ = "0.1.0"
