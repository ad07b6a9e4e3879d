"""Training the digit classifier (the only package that imports torch).

``model`` (the network and its config), ``data`` (crops the segmenter produces, labelled),
``train`` (the loop), ``export`` (ONNX with metadata, checkpoints) and ``build_shipped``
(`make model`).
"""
