"""Maglumat's base: what every layer may import (the clock), importing no layer above it."""
