"""vmexit-tui: why KVM guests leave guest mode, live in the terminal."""

__version__ = "0.1.0"
