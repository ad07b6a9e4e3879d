"""Retraining from corrections: build the data, fine-tune, gate, register, promote.

``gate`` is pure (numpy only); ``data`` and ``run`` import torch lazily through
``digitpad.training``, so importing this package stays cheap.
"""
